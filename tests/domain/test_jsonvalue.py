"""Canonical JSON: one strict decoder, one encoder, a depth limit that holds exactly."""

import pytest

from solo import limits
from solo.domain import jsonvalue


def nested(depth: int, leaf: object = "лист") -> object:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"рівень": value}
    return value


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": 1e400}',
        b'{"a": "\\ud800"}',
        b'{"a": "\\udc00"}',
        '{"a": "ж"}'.encode("utf-16"),
        b'{"a": "\xff"}',
        b'{"a": 1',
        b"",
    ],
    ids=[
        "nan",
        "infinity",
        "minus-infinity",
        "beyond-double",
        "lone-high-surrogate",
        "lone-low-surrogate",
        "utf-16",
        "bad-utf-8",
        "truncated",
        "empty",
    ],
)
def test_what_is_not_strict_json_is_refused(raw):
    with pytest.raises(jsonvalue.InvalidJsonValue):
        jsonvalue.decode(raw)


def test_a_value_decodes_with_its_canonical_encoding():
    value, canonical = jsonvalue.decode(
        ' { "назва" : "чернетка" , "n" : [1, 2.5, null, true] } '.encode()
    )
    assert value == {"назва": "чернетка", "n": [1, 2.5, None, True]}
    assert canonical == '{"назва":"чернетка","n":[1,2.5,null,true]}'.encode()
    assert jsonvalue.size_of(value) == len(canonical)


def test_nesting_up_to_the_limit_is_accepted_and_one_more_level_is_not():
    at_limit = jsonvalue.encode(nested(limits.JSON_DEPTH_LIMIT))
    assert jsonvalue.decode(at_limit)[0] == nested(limits.JSON_DEPTH_LIMIT)
    with pytest.raises(jsonvalue.TooDeep):
        jsonvalue.decode(jsonvalue.encode(nested(limits.JSON_DEPTH_LIMIT + 1)))


@pytest.mark.parametrize("depth", [0, 1, 7, 199, 200, 254])
def test_encode_within_measures_depth_exactly(depth):
    value = nested(depth)
    assert jsonvalue.encode_within(value, depth) == jsonvalue.encode(value)
    if depth:
        with pytest.raises(jsonvalue.TooDeep):
            jsonvalue.encode_within(value, depth - 1)


def test_the_encoder_still_refuses_what_the_depth_trick_relies_on():
    """encode_within pads values up to orjson's own nesting limit; a new orjson that moved
    that limit would make every depth check wrong, so it is pinned here."""
    jsonvalue.encode(nested(254))
    with pytest.raises(TypeError):
        jsonvalue.encode(nested(255))


def test_json_equality_tells_booleans_from_numbers():
    assert jsonvalue.equal({"а": [1, 2.0]}, {"а": [1.0, 2]})
    assert not jsonvalue.equal(True, 1)
    assert not jsonvalue.equal({"а": 0}, {"а": False})
    assert not jsonvalue.equal([None], [])
    assert not jsonvalue.equal({"а": 1}, {"б": 1})


def test_members_are_spliced_in_as_given():
    spliced = jsonvalue.with_members({"id": "я"}, state=b'{"x":1}', log=b"[]")
    assert spliced == '{"id":"я","state":{"x":1},"log":[]}'.encode()
    assert jsonvalue.with_members({}, state=b"{}") == b'{"state":{}}'


@pytest.mark.parametrize("depth", [limits.JSON_DEPTH_LIMIT + 1, 600, 970, 1024, 1025, 100_000])
def test_any_nesting_past_the_limit_is_too_deep_even_past_the_decoders_own(depth):
    with pytest.raises(jsonvalue.TooDeep):
        jsonvalue.decode(b"[" * depth + b"]" * depth)
