"""What every write handler reads and answers about revisions: the request's precondition
(and the base rev of a diff to rebase), and the answer of a write, after publishing its
revision to the session's event streams."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from solo import limits
from solo.dependencies import Dependencies
from solo.domain import preconditions
from solo.domain.jsonvalue import encode, with_members
from solo.http import scope as request_scope
from solo.http.refusals import InvalidRequest
from solo.runtime.revision_feed import RevisionEvent
from solo.services.writes import Written

REPLAYED_HEADER = "Idempotent-Replayed"

BASE_REV_HEADER = "Solo-Base-Rev"
"""The rev a diff's ops were computed on (a server rebase; with `If-Match: *`)."""


def precondition() -> preconditions.Precondition:
    headers = request_scope.headers(request_scope.current())
    return preconditions.from_headers(headers.get("If-Match"), headers.get("X-Rev"))


def base_rev(asked: preconditions.Precondition) -> int | None:
    """The rev a diff's ops were computed on, to rebase them: only with `If-Match: *` (a
    failing If-Match may not be ignored, RFC 9110 §13.1.1)."""
    raw = request_scope.headers(request_scope.current()).get(BASE_REV_HEADER)
    if raw is None:
        return None
    if not asked.any_rev:
        raise InvalidRequest(f"{BASE_REV_HEADER} goes with If-Match: *", field=BASE_REV_HEADER)
    return int(raw)  # the spec's pattern has made sure it is digits


def write_answer(
    deps: Dependencies,
    session_id: uuid.UUID,
    written: Written,
    asked: preconditions.Precondition,
    *,
    more: dict[str, Any] | None = None,
) -> Response:
    """The 200 of a write, encoded here once; its revision published to this process's
    streams first (a replayed answer's was published when it was made)."""
    if not written.replayed and written.updated_at is not None:
        ops = written.logged
        small = ops if ops is not None and len(ops) <= limits.EVENT_OPS_MAX_BYTES else None
        deps.feed.published(session_id, RevisionEvent(written.rev, written.updated_at, small))
    headers = {"ETag": preconditions.etag(written.rev), **replayed_header(written.replayed)}
    if asked.legacy:
        headers["Deprecation"] = "true"
    body = {**written.body, **(more or {})}
    encoded = (
        encode(body) if written.changes is None else with_members(body, changes=written.changes)
    )
    return Response(encoded, 200, headers=headers, media_type="application/json")


def replayed_header(replayed: bool) -> dict[str, str]:
    return {REPLAYED_HEADER: "true"} if replayed else {}
