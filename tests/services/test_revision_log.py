"""Random patches through the log, checkpoints, compaction and two process caches give
the state that applying them to a plain dict gives."""

import contextlib
import copy
import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solo import limits
from solo.dependencies import Dependencies
from solo.domain import jsonvalue
from solo.domain.errors import InvalidOps
from solo.domain.model import KeptLog, Patch, Replace
from solo.domain.preconditions import from_headers
from solo.services import sessions, writes
from tests.support.patches import json_values, operations, pointers, reference

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
KEYS = st.sampled_from(["абзац", "назва", "теги", "0"])
VALUES = json_values(
    KEYS, st.one_of(st.integers(2, 99), st.text("жовтень", max_size=4), st.none()), 6
)
TOKENS = st.one_of(KEYS, st.sampled_from(["1", "-"]))
INTO_WHAT_IT_ADDS = KEYS.flatmap(
    lambda key: st.tuples(
        st.just({"op": "add", "path": f"/{key}"}),
        st.dictionaries(KEYS, VALUES, min_size=1, max_size=3),
        st.lists(
            operations(pointers(TOKENS, min_size=1).map(lambda p: f"/{key}{p}"), VALUES, False),
            min_size=1,
            max_size=2,
        ),
    )
).map(lambda made: Patch([{**made[0], "value": made[1]}, *made[2]]))
"""A patch that adds an object, then changes inside it."""
OPS = operations(pointers(TOKENS, min_size=1), VALUES, False)
FILLER = {"заповнення": "ж" * 2000}
"""Outside every generated path: it keeps each state larger than the ops logged since its
checkpoint, so that states are rebuilt from the log, not only from checkpoints."""
WRITES = st.lists(
    st.one_of(
        st.lists(OPS, min_size=1, max_size=3).map(Patch),
        INTO_WHAT_IT_ADDS,
        st.dictionaries(KEYS, VALUES, max_size=3)
        .map(lambda s: {**s, **FILLER})
        .map(lambda s: Replace(s, jsonvalue.encode(s))),
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
    _, state = sessions.get_session(
        deps.database.unit_of_work(), deps.states, owner="олена", session_id=session_id
    )
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
@given(
    writes_made=WRITES,
    kept=st.builds(KeptLog, changes=st.integers(1, 4), bytes=st.sampled_from([2500, 6000, 10**9])),
)
def test_log_checkpoints_and_caches_agree_with_a_plain_dict(
    deps, second_process, settings, monkeypatch, writes_made, kept
):
    monkeypatch.setattr(limits, "CHECKPOINT_MAX_CHANGES", 3)
    start = {"назва": "чернетка", **FILLER}
    session = sessions.create_session(
        deps.database.unit_of_work(),
        deps.states,
        owner="олена",
        state=copy.deepcopy(start),
        clock=lambda: T0,
    ).session
    expected, sent = start, {}
    for index, change in enumerate(writes_made):
        writer = (deps, second_process)[index % 2]
        fresh_change = copy.deepcopy(change)
        with contextlib.suppress(InvalidOps):
            made = writes.write(
                writer.database.unit_of_work(),
                writer.states,
                writes.Write("олена", session.id, from_headers("*", None), fresh_change),
                clock=lambda: T0,
                kept=kept,
            )
            sent[made.rev] = change.ops if isinstance(change, Patch) else None
        expected = expected_after(expected, change)
        assert read((second_process, deps)[index % 2], session.id) == expected
    cold = Dependencies.build(settings)
    try:
        assert read(cold, session.id) == expected
    finally:
        cold.close()
    assert read(deps, session.id) == read(second_process, session.id) == expected
    with deps.database.unit_of_work() as uow:
        logged = uow.log.changes(session.id, 0, max(sent, default=0))
    # A log compacted down to its newest checkpoint keeps no change at all.
    oldest_kept = logged[0].rev if logged else max(sent, default=0) + 1
    assert {
        change.rev: None if change.ops is None else as_sent(change.ops, sent[change.rev])
        for change in logged
    } == {rev: ops for rev, ops in sent.items() if rev >= oldest_kept}
    head = sessions.get_session(
        deps.database.unit_of_work(), deps.states, owner="олена", session_id=session.id
    )[0]
    assert head.kept_bytes == kept_bytes_of(deps, session.id)
    assert head.kept_bytes <= max(kept.bytes, head.size)


def as_sent(logged: bytes, sent: list) -> list:
    """The logged ops with the end of an array (`-`) put back where it was sent: the log
    names the index each such op added at, and is otherwise the patch as sent. (A `-` that
    names an object's member, `{"path": "/-"}` on the root, is logged as it was sent.)"""
    ops = jsonvalue.decode_canonical(logged)
    for op, original in zip(ops, sent, strict=True):
        if original.get("path", "").endswith("/-") and op["path"] != original["path"]:
            assert op["path"].rpartition("/")[0] == original["path"].rpartition("/")[0]
            assert op["path"].rpartition("/")[2].isdigit()
            op["path"] = original["path"]
    return ops


def kept_bytes_of(deps, session_id) -> int:
    """What the session's log holds, counted by the database."""
    with deps.database.engine.connect() as connection:
        return sum(
            connection.execute(
                sa.text(
                    f"SELECT COALESCE(SUM(LENGTH({column})), 0) FROM {table} WHERE session_id = :id"
                ),
                {
                    "id": session_id
                    if deps.database.engine.dialect.name == "postgresql"
                    else session_id.hex
                },
            ).scalar_one()
            for table, column in (("changes", "ops"), ("checkpoints", "state"))
        )
