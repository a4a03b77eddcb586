"""The edge where every failure becomes the contract's error answer: one table.

Domain errors (solo.domain.errors), the HTTP layer's own refusals (solo.http.refusals),
credentials refused by solo.security, and what connexion and starlette raise are each
mapped here to a status, headers and the error body `{"error", "request_id", "message",
…details}`. `render` is the only place an error becomes a response.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Callable
from typing import Any

from connexion.exceptions import (
    BadRequestProblem,
    NonConformingResponse,
    ProblemException,
    UnsupportedMediaTypeProblem,
)
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from solo import limits
from solo.domain import errors as domain
from solo.domain import jsonvalue
from solo.domain.preconditions import etag
from solo.http import refusals
from solo.http.request_ids import REQUEST_ID_HEADER
from solo.http.scope import operation_id, request_id_of
from solo.runtime.stream_slots import TooManyStreams
from solo.security import CredentialRefused, NotThisResource
from solo.storage import ExpiredOrForged, NoSuchObject
from solo.web.spec import HTTP_METHODS
from solo.web.validators import short_message

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Answer:
    """How one kind of error is answered."""

    status: int
    code: str
    message: str
    details: Callable[[Any], dict[str, Any]] = lambda _error: {}
    headers: Callable[[Any], dict[str, str]] = lambda _error: {}


_PRECONDITION_MESSAGES = {
    domain.Reason.MISSING: "If-Match is required: send the session's ETag.",
    domain.Reason.UNPARSABLE: "If-Match (or X-Rev) is not a valid entity tag.",
    domain.Reason.MISMATCH: "The session has changed: refetch it and retry.",
}
_CLOSE = {"Connection": "close"}


def _unauthorized_headers(error: CredentialRefused | refusals.Unauthorized) -> dict[str, str]:
    # RFC 6750 §3: a token that was sent and refused is `invalid_token`; none sent, no code.
    if error.reason == "missing":
        return {"WWW-Authenticate": 'Bearer realm="solo"'}
    return {"WWW-Authenticate": 'Bearer realm="solo", error="invalid_token"'}


ANSWERS: dict[type[Exception], Answer] = {
    refusals.InvalidRequest: Answer(
        400,
        "invalid_request",
        "The request does not match the API specification.",
        details=lambda e: {"field": e.field} if e.field else {},
    ),
    domain.InvalidParameter: Answer(
        400, "invalid_request", "", details=lambda e: {"field": e.field}
    ),
    refusals.InvalidJson: Answer(400, "invalid_json", "The request body is not valid UTF-8 JSON."),
    refusals.InvalidEncoding: Answer(
        400, "invalid_encoding", "The gzip-encoded request body is corrupt or truncated."
    ),
    refusals.Unauthorized: Answer(
        401,
        "unauthorized",
        "A valid bearer token is required.",
        details=lambda e: {"reason": e.reason},
        headers=_unauthorized_headers,
    ),
    CredentialRefused: Answer(
        401,
        "unauthorized",
        "A valid bearer token is required.",
        details=lambda e: {"reason": e.reason},
        headers=_unauthorized_headers,
    ),
    refusals.Forbidden: Answer(403, "forbidden", "This link or token does not open this resource."),
    NotThisResource: Answer(403, "forbidden", "This link or token does not open this resource."),
    domain.NotFound: Answer(404, "not_found", "No such resource."),
    NoSuchObject: Answer(404, "not_found", "No such resource."),
    ExpiredOrForged: Answer(403, "forbidden", "This link is expired or was altered."),
    refusals.MethodNotAllowed: Answer(
        405,
        "method_not_allowed",
        "This method is not allowed on this resource.",
        headers=lambda e: {"Allow": ", ".join(e.allowed)},
    ),
    refusals.RequestTimeout: Answer(
        408,
        "request_timeout",
        "The request body did not arrive in time.",
        details=lambda e: {"deadline": e.deadline},
        headers=lambda _e: _CLOSE,
    ),
    domain.RevMismatch: Answer(
        409,
        "rev_mismatch",
        "X-Rev does not match the session's current revision.",
        details=lambda e: {"server_rev": e.server_rev},
        headers=lambda e: {"ETag": etag(e.server_rev)},
    ),
    domain.AheadOfServer: Answer(
        409,
        "ahead_of_server",
        "The session is behind the rev you hold (the server was restored): refetch it.",
        details=lambda e: {"rev": e.rev},
        headers=lambda e: {"ETag": etag(e.rev)},
    ),
    domain.QuotaExceeded: Answer(
        403,
        "quota_exceeded",
        "This would pass your quota: delete sessions or snapshots to make room.",
        details=lambda e: {"quota": e.quota, "limit": e.limit, "used": e.used},
    ),
    domain.IdempotencyInProgress: Answer(
        409,
        "idempotency_in_progress",
        "A request with this Idempotency-Key is still being processed.",
        headers=lambda _e: {"Retry-After": str(limits.IDEMPOTENCY_RETRY_AFTER_SECONDS)},
    ),
    domain.RebaseConflict: Answer(
        409,
        "rebase_conflict",
        "The diff meets changes made since its base: read them, rebase and retry.",
        details=lambda e: {"rev": e.rev, "reason": e.reason, "paths": e.paths},
        headers=lambda e: {"ETag": etag(e.rev)},
    ),
    domain.ChangesCompacted: Answer(
        410,
        "changes_compacted",
        "Changes that old are no longer kept: refetch the session.",
        details=lambda e: {"oldest_rev": e.oldest_rev},
    ),
    domain.PreconditionFailed: Answer(
        412,
        "precondition_failed",
        "",
        details=lambda e: {"reason": e.reason},
        headers=lambda e: {"ETag": etag(e.current_rev)},
    ),
    refusals.PayloadTooLarge: Answer(
        413,
        "payload_too_large",
        "The request body is larger than this endpoint accepts.",
        details=lambda e: {"limit": e.limit, "encoding": e.encoding, "endpoint": e.endpoint},
        headers=lambda _e: _CLOSE,
    ),
    refusals.UnsupportedMediaType: Answer(
        415,
        "unsupported_media_type",
        "The request body's media type or encoding is not supported.",
        details=lambda e: (
            {"encoding": e.encoding}
            if e.encoding is not None
            else {"media_type": e.media_type or ""}
        ),
        headers=lambda e: {"Accept-Encoding": "gzip"} if e.encoding is not None else {},
    ),
    domain.InvalidOps: Answer(
        422,
        "invalid_ops",
        "The patch cannot be applied; nothing was changed.",
        details=lambda e: {"op_index": e.op_index, "reason": e.reason},
    ),
    domain.InvalidState: Answer(422, "invalid_state", "The state must be a JSON object."),
    domain.StateTooLarge: Answer(
        422,
        "state_too_large",
        "The resulting state would be larger than the state limit.",
        details=lambda e: {"limit": e.limit},
    ),
    domain.IdempotencyKeyReused: Answer(
        422, "idempotency_key_reused", "This Idempotency-Key was used for another request."
    ),
    domain.RevisionUnavailable: Answer(
        422,
        "revision_unavailable",
        "That revision is neither snapshotted nor in the kept change log.",
        details=lambda e: {"rev": e.rev},
    ),
    refusals.RateLimited: Answer(
        429,
        "rate_limited",
        "Too many requests: retry after the given number of seconds.",
        details=lambda e: {"limit": e.limit, "window": e.window, "retry_after": e.retry_after},
        headers=lambda e: {"Retry-After": str(e.retry_after), **e.rate_headers},
    ),
    TooManyStreams: Answer(
        429,
        "too_many_streams",
        "Too many open event streams: close one, or retry later.",
        details=lambda e: {
            "limit": e.limit,
            "scope": e.scope,
            "retry_after": limits.EVENT_STREAM_LEASE_SECONDS,
        },
        headers=lambda _e: {"Retry-After": str(limits.EVENT_STREAM_LEASE_SECONDS)},
    ),
    refusals.InternalError: Answer(
        500, "internal_error", "The server could not complete the request."
    ),
    domain.ServerFault: Answer(500, "internal_error", "The server could not complete the request."),
    domain.Unavailable: Answer(
        503,
        "unavailable",
        "A dependency of the server does not answer.",
        details=lambda e: {"checks": e.checks},
        headers=lambda _e: {"Retry-After": str(limits.RETRY_AFTER_SECONDS)},
    ),
}
"""Every error the server answers, by class (a subclass is answered as its nearest listed
class). tests/web/test_errors.py keeps one spec schema per code."""


_ANSWERED = tuple(ANSWERS)


def answer_for(error: Exception | type[Exception]) -> Answer:
    """How an error (or a kind of error) is answered."""
    for cls in (error if isinstance(error, type) else type(error)).__mro__:
        answer = ANSWERS.get(cls)
        if answer is not None:
            return answer
    raise LookupError(type(error).__name__)


class RouteTable:
    """Which methods the spec declares for each path, for 405's `Allow`."""

    def __init__(self, base_path: str, paths: dict[str, Any]) -> None:
        self._routes: list[tuple[re.Pattern[str], list[str]]] = []
        for template, item in paths.items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(base_path + template))
            methods = [m.upper() for m in item if m in HTTP_METHODS]
            if "GET" in methods:
                methods.append("HEAD")
            self._routes.append((re.compile(pattern), sorted(methods)))

    def allowed(self, path: str) -> list[str]:
        for pattern, methods in self._routes:
            if pattern.fullmatch(path):
                return methods
        return []


def translate(exc: Exception, request: ConnexionRequest, routes: RouteTable) -> Exception:
    """The error to answer for anything raised while serving `request`."""
    if isinstance(exc, domain.Unavailable):
        down = [name for name, check in exc.checks.items() if check == "unavailable"]
        log.error("%s does not answer: %s", ", ".join(down), exc.detail)
        return exc
    if isinstance(exc, _ANSWERED):
        return exc  # (a ServerFault was logged where it was found)
    if isinstance(exc, NonConformingResponse):
        log.error("response does not conform to the spec: %s", exc.detail)
        return refusals.InternalError()
    if isinstance(exc, UnsupportedMediaTypeProblem):
        return refusals.UnsupportedMediaType(media_type=request.headers.get("content-type", ""))
    if isinstance(exc, BadRequestProblem):
        return refusals.InvalidRequest(short_message(exc.detail or ""))
    status = getattr(exc, "status_code", None)
    if isinstance(exc, ProblemException) and status == 401:
        return refusals.Unauthorized()
    if isinstance(exc, HTTPException):
        if status == 404:
            return domain.NotFound()
        if status == 405:
            return refusals.MethodNotAllowed(routes.allowed(request.url.path))
        if status in (401, 403):
            return refusals.Unauthorized() if status == 401 else refusals.Forbidden()
        if status is not None and 400 <= status < 500:
            return refusals.InvalidRequest()
    log.error("unexpected error", exc_info=exc)
    return refusals.InternalError()


def exception_handler(
    routes: RouteTable, count_error: Callable[[str | None, str], None]
) -> Callable[[ConnexionRequest, Exception], ConnexionResponse]:
    """The handler connexion's exception middlewares call for everything raised."""

    def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        error = translate(exc, request, routes)
        count_error(operation_id(request.scope), answer_for(error).code)
        return render(error, request_id_of(request.scope))

    return handle


def render(error: Exception, request_id: str) -> ConnexionResponse:
    """The only place an error becomes an HTTP response."""
    answer = answer_for(error)
    message = message_of(error)
    body = {"error": answer.code, "request_id": request_id, "message": message}
    body.update(answer.details(error))
    try:
        encoded = jsonvalue.encode(body)
    except TypeError:
        # A detail echoed text that is not Unicode (a lone surrogate): leave the details out.
        encoded = jsonvalue.encode(
            {"error": answer.code, "request_id": request_id, "message": answer.message}
        )
    return ConnexionResponse(
        status_code=answer.status,
        mimetype="application/json",
        body=encoded,
        headers={REQUEST_ID_HEADER: request_id, **answer.headers(error)},
    )


def message_of(error: Exception) -> str:
    """What the answer says in words: the error's own message, or its kind's usual one."""
    own: str | None = getattr(error, "message", None)
    if own:
        return own
    if isinstance(error, domain.PreconditionFailed):
        return _PRECONDITION_MESSAGES[error.reason]
    return answer_for(error).message
