"""RFC 6902 operations as members: what each kind needs, and its JSON Pointers parsed."""

from __future__ import annotations

from typing import Any

from solo import limits
from solo.domain import jsonvalue, pointer

_NEEDS_VALUE = {"add", "replace", "test"}
_NEEDS_FROM = {"move", "copy"}
_OPERATIONS = _NEEDS_VALUE | _NEEDS_FROM | {"remove"}


class BadOp(Exception):
    """An op that is malformed or cannot apply; the applier names it in an InvalidOps."""


def parsed_op(op: Any) -> tuple[str, tuple[str, ...]]:
    """The op's kind and its path's tokens, once its members are as RFC 6902 says."""
    if not isinstance(op, dict):
        raise BadOp("an operation must be an object")
    kind = op.get("op")
    if not isinstance(kind, str) or kind not in _OPERATIONS:
        raise BadOp(
            "the operation has no 'op' member"
            if kind is None
            else f"unknown operation {jsonvalue.encode(kind).decode()}"
        )
    for member, needed in (("path", True), ("from", kind in _NEEDS_FROM)):
        if needed and not isinstance(op.get(member), str):
            raise BadOp(f"the '{kind}' operation needs a '{member}' string")
    if kind in _NEEDS_VALUE and "value" not in op:
        raise BadOp(f"the '{kind}' operation needs a 'value' member")
    tokens = tokens_of(op["path"])
    if "from" in op:
        # Typed once for every op in the spec: where present, a pointer, even where unused.
        if not isinstance(op["from"], str):
            raise BadOp("'from' must be a JSON Pointer string")
        tokens_of(op["from"])
    return kind, tokens


def tokens_of(path: str) -> tuple[str, ...]:
    try:
        tokens = pointer.parse(path)
    except pointer.BadPointer as exc:
        raise BadOp(str(exc)) from None
    if len(tokens) > limits.JSON_DEPTH_LIMIT:
        raise BadOp(f"the path is deeper than {limits.JSON_DEPTH_LIMIT} levels")
    return tokens


def path_of(tokens: tuple[str, ...]) -> str:
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in tokens)
