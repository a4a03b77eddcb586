"""Canonical JSON: one strict decoder for every body, one encoder for everything stored.

The canonical form is compact UTF-8 JSON with keys in insertion order; a state's size is
the length of that form. Nesting is bounded (`limits.JSON_DEPTH_LIMIT`) so that nothing
downstream recurses past a known depth.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from solo import limits

JsonValue = Any
"""dict | list | str | int | float | bool | None, as orjson decodes it."""

_ENCODER_MAX_DEPTH = 254
"""orjson refuses to encode more nesting than this (its own limit, pinned with the version
in requirements.lock and checked by tests/domain/test_jsonvalue.py)."""

_DECODER_TOO_DEEP = "depth limit exceeded"
"""How orjson names a document nested past its own decoding limit (1024 levels)."""


class InvalidJsonValue(ValueError):
    """Bytes that are not strict JSON: bad syntax or UTF-8, NaN or Infinity, a number beyond
    double range, a lone surrogate, or nesting deeper than the limit."""


class TooDeep(InvalidJsonValue):
    """A value nested deeper than the limit."""


def decode(raw: bytes) -> tuple[JsonValue, bytes]:
    """The value of a body and its canonical encoding, or InvalidJsonValue."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = str(exc).split(":", 1)[0]
        if reason == _DECODER_TOO_DEEP:
            raise TooDeep(f"nested deeper than {limits.JSON_DEPTH_LIMIT} levels") from None
        raise InvalidJsonValue(reason) from None
    return value, encode_within(value, limits.JSON_DEPTH_LIMIT)


def decode_canonical(data: bytes) -> JsonValue:
    """A value this server encoded itself (a checkpoint, a logged op): no checks again."""
    return orjson.loads(data)


def encode(value: JsonValue) -> bytes:
    """The canonical encoding of a value that is known to be within the limits."""
    return orjson.dumps(value)


def encode_within(value: JsonValue, max_depth: int) -> bytes:
    """The canonical encoding, or TooDeep when `value` nests deeper than `max_depth`."""
    padding, data = _padded(value, max_depth)
    return data[padding : len(data) - padding]


def size_within(value: JsonValue, max_depth: int) -> int:
    """The size of the canonical encoding, or TooDeep when `value` nests deeper than
    `max_depth`."""
    padding, data = _padded(value, max_depth)
    return len(data) - 2 * padding


def _padded(value: JsonValue, max_depth: int) -> tuple[int, bytes]:
    """The value wrapped in enough one-element arrays that the encoder's own nesting limit
    falls exactly at `max_depth`, encoded: the check costs nothing beyond the encoding."""
    padding = _ENCODER_MAX_DEPTH - max_depth
    wrapped = value
    for _ in range(padding):
        wrapped = [wrapped]
    try:
        return padding, orjson.dumps(wrapped)
    except orjson.JSONEncodeError as exc:
        if "Recursion limit" in str(exc):
            raise TooDeep(f"nested deeper than {max_depth} levels") from None
        raise InvalidJsonValue(str(exc)) from None


def copy_of(value: JsonValue) -> JsonValue:
    """A copy whose objects and arrays are new; strings and numbers, immutable, are shared."""
    if isinstance(value, dict):
        return {key: copy_of(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_of(item) for item in value]
    return value


def size_of(value: JsonValue) -> int:
    """Bytes of the value's canonical encoding."""
    return len(orjson.dumps(value))


def equal(a: JsonValue, b: JsonValue) -> bool:
    """JSON equality (RFC 6902 §4.6): numbers by value, but `true` is not `1`."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(equal(value, b[key]) for key, value in a.items())
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(equal, a, b))
    if isinstance(a, int | float):
        return isinstance(b, int | float) and a == b
    return type(a) is type(b) and a == b


def with_members(document: dict[str, JsonValue], **encoded: bytes) -> bytes:
    """`document` as canonical JSON with more members spliced in from their canonical
    JSON, so that a large state is never decoded and encoded again to be sent or stored."""
    parts = [orjson.dumps(document)[1:-1]] if document else []
    parts += [orjson.dumps(name) + b":" + value for name, value in encoded.items()]
    return b"{" + b",".join(parts) + b"}"


def timestamp(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with a `Z`, as every timestamp is written."""
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
