"""Random patches through the log, checkpoints, compaction and two process caches give
the state that applying them to a plain dict gives."""

import contextlib
import copy
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solo import limits
from solo.dependencies import Dependencies
from solo.domain import jsonvalue
from solo.domain.model import Patch, Replace
from solo.domain.preconditions import from_headers
from solo.errors import InvalidOps
from solo.services import sessions, writes
from tests.support.patches import json_values, operations, pointers, reference

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
KEYS = st.sampled_from(["абзац", "назва", "теги", "0"])
VALUES = json_values(
    KEYS, st.one_of(st.integers(2, 99), st.text("жовтень", max_size=4), st.none()), 6
)
OPS = operations(pointers(st.one_of(KEYS, st.sampled_from(["1", "-"])), min_size=1), VALUES, False)
WRITES = st.lists(
    st.one_of(
        st.lists(OPS, min_size=1, max_size=3).map(Patch),
        st.dictionaries(KEYS, VALUES, max_size=3).map(lambda s: Replace(s, jsonvalue.encode(s))),
    ),
    min_size=1,
    max_size=12,
)


def expected_after(state: dict, change) -> dict:
    if isinstance(change, Replace):
        return copy.deepcopy(change.state)
    patched = reference(state, change.ops)
    return state if patched is None else patched


def read(deps, session_id) -> dict:
    _, state = sessions.get_session(deps.unit_of_work(), deps.states, "олена", session_id)
    return jsonvalue.decode(state)[0]


@pytest.fixture
def second_process(settings):
    built = Dependencies.build(settings)
    yield built
    built.close()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(writes_made=WRITES, kept=st.integers(1, 4))
def test_log_checkpoints_and_caches_agree_with_a_plain_dict(
    deps, second_process, settings, monkeypatch, writes_made, kept
):
    monkeypatch.setattr(limits, "CHECKPOINT_MAX_CHANGES", 3)
    start = {"назва": "чернетка"}
    session, _ = sessions.create_session(
        deps.unit_of_work(), deps.states, "олена", copy.deepcopy(start), lambda: T0
    )
    expected = start
    for index, change in enumerate(writes_made):
        writer = (deps, second_process)[index % 2]
        fresh_change = copy.deepcopy(change)
        with contextlib.suppress(InvalidOps):
            writes.write(
                writer.unit_of_work(),
                writer.states,
                "олена",
                session.id,
                from_headers("*", None),
                fresh_change,
                lambda: T0,
                kept,
            )
        expected = expected_after(expected, change)
        assert read((second_process, deps)[index % 2], session.id) == expected
    cold = Dependencies.build(settings)
    try:
        assert read(cold, session.id) == expected
    finally:
        cold.close()
    assert read(deps, session.id) == read(second_process, session.id) == expected
