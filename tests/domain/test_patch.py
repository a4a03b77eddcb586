"""RFC 6902 in place: the same results as a reference implementation, exact sizes, and a
failed or taken-back patch that leaves no trace, whatever the ops."""

import copy
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solo import limits
from solo.domain import jsonvalue
from solo.domain.errors import InvalidOps, StateTooLarge
from solo.domain.patch import apply_patch
from tests.support.patches import json_values, operations, pointers, reference

STATE = {"а": 1, "б": [1, 2], "в": {"г": "д"}}


def applied(state: dict, ops: list) -> dict:
    return apply_patch(state, jsonvalue.size_of(state), ops).state


def test_every_rfc6902_operation_applies_in_order():
    ops = [
        {"op": "add", "path": "/б/1", "value": 9},
        {"op": "remove", "path": "/а"},
        {"op": "replace", "path": "/в/г", "value": "е"},
        {"op": "copy", "from": "/в", "path": "/копія"},
        {"op": "move", "from": "/копія/г", "path": "/є"},
        {"op": "test", "path": "/є", "value": "е"},
        {"op": "add", "path": "/б/-", "value": {"~/": True}},
        {"op": "test", "path": "/б/3/~0~1", "value": True},
    ]
    assert applied(copy.deepcopy(STATE), ops) == {
        "б": [1, 9, 2, {"~/": True}],
        "в": {"г": "е"},
        "копія": {},
        "є": "е",
    }


def test_replacing_the_root_with_an_object_is_allowed():
    assert applied({"а": 1}, [{"op": "replace", "path": "", "value": {"б": 2}}]) == {"б": 2}


def test_the_op_that_left_the_root_a_non_object_is_named():
    ops = [
        {"op": "add", "path": "/а", "value": 1},
        {"op": "replace", "path": "", "value": "рядок"},
        {"op": "test", "path": "", "value": "рядок"},
    ]
    with pytest.raises(InvalidOps) as raised:
        apply_patch({}, 2, ops)
    assert (raised.value.op_index, raised.value.reason) == (
        1,
        "the state must remain a JSON object",
    )


@pytest.mark.parametrize(
    ("op", "reason"),
    [
        ({"op": "add", "path": "/а/0", "value": 1}, "'/а' is not an object or an array"),
        ({"op": "add", "path": "/б/01", "value": 1}, "'/б/01': '01' is not an array index"),
        (
            {"op": "add", "path": "/б/3", "value": 1},
            "'/б/3': index 3 is out of range for an array of 2",
        ),
        ({"op": "replace", "path": "/б/-", "value": 1}, "'/б/-': '-' is not an array index"),
        ({"op": "remove", "path": ""}, "the whole state cannot be removed"),
        (
            {"op": "add", "path": "/а~2", "value": 1},
            "the pointer '/а~2' has a '~' not followed by 0 or 1",
        ),
        (
            {"op": "test", "path": "/а", "value": True},
            "test failed: the value at '/а' is not the tested value",
        ),
        ({"path": "/а"}, "the operation has no 'op' member"),
        ({"op": "copy", "path": "/а", "from": 7}, "the 'copy' operation needs a 'from' string"),
        ("не об'єкт", "an operation must be an object"),
    ],
)
def test_an_op_that_cannot_apply_names_why(op, reason):
    state = copy.deepcopy(STATE)
    with pytest.raises(InvalidOps) as raised:
        apply_patch(state, jsonvalue.size_of(state), [{"op": "test", "path": "/а", "value": 1}, op])
    assert (raised.value.op_index, raised.value.reason) == (1, reason)
    assert state == STATE


def test_a_long_reason_is_cut():
    with pytest.raises(InvalidOps) as raised:
        apply_patch({}, 2, [{"op": "remove", "path": "/" + "ж" * 500}])
    assert len(raised.value.reason) == 300
    assert raised.value.reason.endswith("…")


def test_a_refused_patch_restores_values_and_member_order():
    state = {"перший": 1, "другий": {"x": [1, 2]}, "третій": 3}
    before = jsonvalue.encode(state)
    ops = [
        {"op": "remove", "path": "/перший"},
        {"op": "move", "from": "/другий", "path": "/нове"},
        {"op": "add", "path": "/нове/x/0", "value": 0},
        {"op": "replace", "path": "/третій", "value": "три"},
        {"op": "test", "path": "/третій", "value": 3},
    ]
    with pytest.raises(InvalidOps):
        apply_patch(state, len(before), ops)
    assert jsonvalue.encode(state) == before


def test_undo_takes_back_a_patch_that_applied():
    state = {"перший": 1, "другий": [1, 2]}
    before = jsonvalue.encode(state)
    patch = apply_patch(state, len(before), [{"op": "remove", "path": "/перший"}])
    patch.undo()
    assert jsonvalue.encode(state) == before


def test_growing_past_the_state_limit_is_refused_at_the_op_that_would(monkeypatch):
    monkeypatch.setattr(limits, "STATE_SIZE_LIMIT", 60)
    state = {"а": "ж" * 10}
    ops = [{"op": "add", "path": "/б", "value": "ю" * 10}, {"op": "copy", "from": "", "path": "/в"}]
    with pytest.raises(StateTooLarge):
        apply_patch(state, jsonvalue.size_of(state), ops)
    assert state == {"а": "ж" * 10}


def test_eighteen_copies_of_the_document_are_refused_before_they_are_built():
    state = {"текст": "ж" * 50_000}
    ops = [{"op": "copy", "from": "", "path": f"/копія{n}"} for n in range(18)]
    tracemalloc.start()
    try:
        with pytest.raises(StateTooLarge):
            apply_patch(state, jsonvalue.size_of(state), ops)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * limits.STATE_SIZE_LIMIT
    assert state == {"текст": "ж" * 50_000}


def test_a_patch_that_keeps_copying_and_dropping_runs_out_of_work():
    state = {"великий": "ж" * 400_000}
    ops = [{"op": "copy", "from": "/великий", "path": "/x"}, {"op": "remove", "path": "/x"}] * 50
    with pytest.raises(InvalidOps) as raised:
        apply_patch(state, jsonvalue.size_of(state), ops)
    assert raised.value.reason == WORK_REFUSED
    assert state == {"великий": "ж" * 400_000}


WORK_REFUSED = (
    f"the patch does more than {limits.PATCH_WORK_LIMIT} units of work in all "
    "(bytes it copies or drops, array items it shifts)"
)


def test_array_items_an_insert_or_a_removal_shifts_are_work():
    state = {"рядки": ["а", "б", "в", "г"]}
    patch = apply_patch(
        state,
        jsonvalue.size_of(state),
        [{"op": "add", "path": "/рядки/1", "value": "ґ"}, {"op": "remove", "path": "/рядки/0"}],
    )
    # The insert shifts three items, the removal four; the removal measures "а" (4 bytes).
    assert (patch.state, patch.work) == ({"рядки": ["ґ", "б", "в", "г"]}, 3 + 4 + 4)


def test_shifting_a_long_array_back_and_forth_runs_out_of_work_long_before_the_end():
    state = {"числа": [0] * 1_000_000}
    ops = [{"op": "remove", "path": "/числа/0"}, {"op": "add", "path": "/числа/0", "value": 0}]
    ops = ops * 7_600 + [{"op": "test", "path": "/числа/0", "value": 1}]
    with pytest.raises(InvalidOps) as raised:
        apply_patch(state, jsonvalue.size_of(state), ops)
    # Each op shifts about a million items: the budget is spent by the ninth, where before
    # all 15,200 ran (seconds of CPU) only for the final test to fail.
    assert (raised.value.op_index, raised.value.reason) == (8, WORK_REFUSED)
    assert state == {"числа": [0] * 1_000_000}


def test_replaying_a_logged_patch_is_never_refused_for_its_work():
    state = {"числа": [0] * 1_000}
    ops = [{"op": "add", "path": "/числа/0", "value": n} for n in range(10)]
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(limits, "PATCH_WORK_LIMIT", 5_000)
        with pytest.raises(InvalidOps):
            apply_patch(copy.deepcopy(state), jsonvalue.size_of(state), ops)
        replayed = apply_patch(state, 0, ops, checked=False)
    assert (replayed.state["числа"][:3], replayed.work) == ([9, 8, 7], 10_045)


def test_a_state_cannot_be_nested_past_the_depth_limit():
    deep_path = "/а" * (limits.JSON_DEPTH_LIMIT - 1)
    state = {}
    ops = [
        {"op": "add", "path": "/а" * depth, "value": {}}
        for depth in range(1, limits.JSON_DEPTH_LIMIT)
    ]
    grown = apply_patch(state, 2, ops)
    assert grown.size == jsonvalue.size_of(state)
    with pytest.raises(InvalidOps) as raised:
        apply_patch(state, grown.size, [{"op": "add", "path": deep_path + "/б", "value": []}])
    assert (
        raised.value.reason == f"the state would nest deeper than {limits.JSON_DEPTH_LIMIT} levels"
    )
    moved = [{"op": "copy", "from": "/а", "path": "/а" * 2}]
    with pytest.raises(InvalidOps):
        apply_patch(state, grown.size, moved)


KEYS = st.sampled_from(["а", "б", "в", "~", "/", "-", "0", "1"])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(2, 9), st.text('жюя\n"', max_size=3))
VALUES = json_values(KEYS, SCALARS, max_leaves=8)
OPS = operations(pointers(st.one_of(KEYS, st.sampled_from(["2", "01"]))), VALUES)
STATES = st.dictionaries(KEYS, VALUES, max_size=4)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STATES, st.lists(OPS, min_size=1, max_size=5))
def test_any_patch_agrees_with_a_reference_and_fails_without_a_trace(state, ops):
    before = jsonvalue.encode(state)
    expected = reference(state, ops)
    try:
        patch = apply_patch(state, len(before), ops)
    except InvalidOps:
        assert jsonvalue.encode(state) == before
        assert expected is None
        return
    assert expected is not None
    assert patch.state == expected
    assert patch.size == jsonvalue.size_of(patch.state)
    patch.undo()
    assert jsonvalue.encode(state) == before
