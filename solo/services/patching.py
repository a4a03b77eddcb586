"""RFC 6902 JSON Patch, applied all-or-nothing with the op that failed named."""

from __future__ import annotations

import jsonpatch
import jsonpointer

from solo.errors import InvalidOps

_REASON_MAX = 300
_ROOT_REPLACING = {"add", "replace", "move", "copy"}


def apply_patch(state: dict, ops: list) -> dict:
    """Return the patched state; `state` is consumed (patched in place).

    Raises InvalidOps naming the first op that is malformed or cannot apply, or
    the last op that left the root something other than an object.
    """
    document: object = state
    root_changed_at = None
    for index, op in enumerate(ops):
        try:
            document = jsonpatch.JsonPatch([op]).apply(document, in_place=True)
        except (
            jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException,
            TypeError,
            ValueError,
        ) as exc:
            raise InvalidOps(op_index=index, reason=_reason(exc, op)) from None
        if op.get("path") == "" and op.get("op") in _ROOT_REPLACING:
            root_changed_at = index
    if not isinstance(document, dict):
        raise InvalidOps(
            op_index=root_changed_at if root_changed_at is not None else len(ops) - 1,
            reason="the state must remain a JSON object",
        )
    return document


def _reason(exc: Exception, op: object) -> str:
    if isinstance(exc, jsonpatch.JsonPatchTestFailed) and isinstance(op, dict):
        # jsonpatch's own text shows Python reprs and types; say it in JSON terms.
        return f"test failed: the value at '{op.get('path')}' is not the tested value"
    text = str(exc) or type(exc).__name__
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"
