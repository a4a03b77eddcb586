"""Request bodies: strict JSON, parsed once (by the request validator) and kept for the
handler with their canonical encoding."""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

from solo import limits
from solo.domain import jsonvalue
from solo.http.refusals import InvalidJson, InvalidRequest
from solo.http.scope import kept_body


def parse_json(raw: bytes) -> tuple[Any, bytes]:
    """A body's JSON value and its canonical encoding, or InvalidJson (strict JSON: no NaN
    or Infinity, no lone surrogates, numbers within double range, bounded nesting)."""
    try:
        return jsonvalue.decode(raw)
    except jsonvalue.TooDeep:
        raise InvalidJson(
            f"The request body nests deeper than {limits.JSON_DEPTH_LIMIT} levels."
        ) from None
    except jsonvalue.InvalidJsonValue:
        raise InvalidJson() from None


def parsed_body(scope: Scope, absent: tuple[Any, bytes] | None = None) -> tuple[Any, bytes]:
    """The JSON body the request validator parsed, with its canonical encoding; `absent`
    when the request had no body (the spec said it was optional)."""
    body = kept_body(scope) or absent
    if body is None:
        raise InvalidRequest("The request body is required.", field="body")
    return body
