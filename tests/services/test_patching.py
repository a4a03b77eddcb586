import pytest

from solo.errors import InvalidOps
from solo.services.patching import apply_patch


def test_every_rfc6902_operation_applies_in_order():
    state = {"а": 1, "б": [1, 2], "в": {"г": "д"}}
    ops = [
        {"op": "add", "path": "/б/1", "value": 9},
        {"op": "remove", "path": "/а"},
        {"op": "replace", "path": "/в/г", "value": "е"},
        {"op": "copy", "from": "/в", "path": "/копія"},
        {"op": "move", "from": "/копія/г", "path": "/є"},
        {"op": "test", "path": "/є", "value": "е"},
    ]
    assert apply_patch(state, ops) == {"б": [1, 9, 2], "в": {"г": "е"}, "копія": {}, "є": "е"}


def test_replacing_the_root_with_an_object_is_allowed():
    assert apply_patch({"а": 1}, [{"op": "replace", "path": "", "value": {"б": 2}}]) == {"б": 2}


def test_the_op_that_left_the_root_a_non_object_is_named():
    ops = [
        {"op": "add", "path": "/а", "value": 1},
        {"op": "replace", "path": "", "value": "рядок"},
        {"op": "test", "path": "", "value": "рядок"},
    ]
    with pytest.raises(InvalidOps) as raised:
        apply_patch({}, ops)
    assert (raised.value.op_index, raised.value.reason) == (
        1,
        "the state must remain a JSON object",
    )


def test_a_long_reason_is_cut():
    with pytest.raises(InvalidOps) as raised:
        apply_patch({}, [{"op": "remove", "path": "/" + "ж" * 500}])
    assert len(raised.value.reason) == 300
    assert raised.value.reason.endswith("…")
