"""The one error hierarchy of Solo (rendered in one place: solo.middleware.errors.render).

SoloError                       base: an answer in the contract's error shape (§11)
├── InvalidRequest        400   a parameter, header or body breaks the spec's schema
├── InvalidJson           400   a body that must be JSON does not parse (or is not UTF-8)
├── InvalidEncoding       400   a gzip body is corrupt or truncated
├── Unauthorized          401   no bearer token, or one that is malformed, expired or forged
├── Forbidden             403   a signed URL or scoped token that does not open this resource
├── NotFound              404   no such route, or no such session for this user
├── MethodNotAllowed      405   the route exists but not with this method
├── RevMismatch           409   the legacy X-Rev names another revision than the server's
├── IdempotencyInProgress 409   an Idempotency-Key whose first request is still running
├── ChangesCompacted      410   a change feed asked from a rev older than the kept log
├── RequestTimeout        408   a body that did not arrive within its deadline
├── PreconditionFailed    412   If-Match (or X-Rev) missing, unparsable or not matching
├── PayloadTooLarge       413   a body over its endpoint's limit (after decompression)
├── UnsupportedMediaType  415   a Content-Type or Content-Encoding the operation does not take
├── InvalidOps            422   a JSON Patch op is malformed or cannot apply
├── InvalidState          422   a full state that is not a JSON object
├── StateTooLarge         422   a state (made by a diff, or sent whole) would pass the state limit
├── IdempotencyKeyReused  422   an Idempotency-Key reused for another session or path
├── RevisionUnavailable   422   a restore names a rev that no snapshot or kept change can rebuild
├── RateLimited           429   the user's budget for this endpoint group is spent
├── TooManyStreams        429   the user or the session holds as many event streams as allowed
├── InternalError         500   anything unexpected; never carries internals
└── Unavailable           503   a dependency (database, storage) does not answer in time
"""

from __future__ import annotations

from typing import Any, ClassVar

from solo import limits

REQUEST_ID_HEADER = "X-Request-ID"


class SoloError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "The server could not complete the request."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message

    def details(self) -> dict[str, Any]:
        """Fields of the body beyond error, request_id and message."""
        return {}

    def headers(self) -> dict[str, str]:
        return {}


class InvalidRequest(SoloError):
    status, code = 400, "invalid_request"
    default_message = "The request does not match the API specification."

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def details(self) -> dict[str, Any]:
        return {"field": self.field} if self.field else {}


class InvalidJson(SoloError):
    status, code = 400, "invalid_json"
    default_message = "The request body is not valid UTF-8 JSON."


class InvalidEncoding(SoloError):
    status, code = 400, "invalid_encoding"
    default_message = "The gzip-encoded request body is corrupt or truncated."


class Unauthorized(SoloError):
    status, code = 401, "unauthorized"
    default_message = "A valid bearer token is required."

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="solo"'}


class Forbidden(SoloError):
    status, code = 403, "forbidden"
    default_message = "This link or token does not open this resource."


class NotFound(SoloError):
    status, code = 404, "not_found"
    default_message = "No such resource."


class MethodNotAllowed(SoloError):
    status, code = 405, "method_not_allowed"
    default_message = "This method is not allowed on this resource."

    def __init__(self, allowed: list[str]) -> None:
        super().__init__()
        self.allowed = allowed

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class RevMismatch(SoloError):
    status, code = 409, "rev_mismatch"
    default_message = "X-Rev does not match the session's current revision."

    def __init__(self, server_rev: int) -> None:
        super().__init__()
        self.server_rev = server_rev

    def details(self) -> dict[str, Any]:
        return {"server_rev": self.server_rev}

    def headers(self) -> dict[str, str]:
        return {"ETag": f'"{self.server_rev}"'}


class IdempotencyInProgress(SoloError):
    status, code = 409, "idempotency_in_progress"
    default_message = "A request with this Idempotency-Key is still being processed."


class PreconditionFailed(SoloError):
    status, code = 412, "precondition_failed"
    messages: ClassVar[dict[str, str]] = {
        "missing": "If-Match is required: send the session's ETag.",
        "unparsable": "If-Match (or X-Rev) is not a valid entity tag.",
        "mismatch": "The session has changed: refetch it and retry.",
    }

    def __init__(self, reason: str, current_rev: int) -> None:
        super().__init__(self.messages[reason])
        self.reason = reason
        self.current_rev = current_rev

    def details(self) -> dict[str, Any]:
        return {"reason": self.reason}

    def headers(self) -> dict[str, str]:
        return {"ETag": f'"{self.current_rev}"'}


class RequestTimeout(SoloError):
    status, code = 408, "request_timeout"
    default_message = "The request body did not arrive in time."

    def __init__(self, deadline: int) -> None:
        super().__init__()
        self.deadline = deadline

    def details(self) -> dict[str, Any]:
        return {"deadline": self.deadline}

    def headers(self) -> dict[str, str]:
        return {"Connection": "close"}


class PayloadTooLarge(SoloError):
    status, code = 413, "payload_too_large"
    default_message = "The request body is larger than this endpoint accepts."

    def __init__(self, *, limit: int, encoding: str, endpoint: str) -> None:
        super().__init__()
        self.limit, self.encoding, self.endpoint = limit, encoding, endpoint

    def details(self) -> dict[str, Any]:
        return {"limit": self.limit, "encoding": self.encoding, "endpoint": self.endpoint}

    def headers(self) -> dict[str, str]:
        return {"Connection": "close"}


class UnsupportedMediaType(SoloError):
    status, code = 415, "unsupported_media_type"
    default_message = "The request body's media type or encoding is not supported."

    def __init__(self, *, media_type: str | None = None, encoding: str | None = None) -> None:
        super().__init__()
        self.media_type, self.encoding = media_type, encoding

    def details(self) -> dict[str, Any]:
        if self.encoding is not None:
            return {"encoding": self.encoding}
        return {"media_type": self.media_type or ""}

    def headers(self) -> dict[str, str]:
        return {"Accept-Encoding": "gzip"} if self.encoding is not None else {}


class InvalidOps(SoloError):
    status, code = 422, "invalid_ops"
    default_message = "The patch cannot be applied; nothing was changed."

    def __init__(self, *, op_index: int, reason: str) -> None:
        super().__init__()
        self.op_index, self.reason = op_index, reason

    def details(self) -> dict[str, Any]:
        return {"op_index": self.op_index, "reason": self.reason}


class InvalidState(SoloError):
    status, code = 422, "invalid_state"
    default_message = "The state must be a JSON object."


class StateTooLarge(SoloError):
    status, code = 422, "state_too_large"
    default_message = "The resulting state would be larger than the state limit."

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def details(self) -> dict[str, Any]:
        return {"limit": self.limit}


class IdempotencyKeyReused(SoloError):
    status, code = 422, "idempotency_key_reused"
    default_message = "This Idempotency-Key was used for another request."


class RevisionUnavailable(SoloError):
    status, code = 422, "revision_unavailable"
    default_message = "That revision is neither snapshotted nor in the kept change log."

    def __init__(self, rev: int) -> None:
        super().__init__()
        self.rev = rev

    def details(self) -> dict[str, Any]:
        return {"rev": self.rev}


class ChangesCompacted(SoloError):
    status, code = 410, "changes_compacted"
    default_message = "Changes that old are no longer kept: refetch the session."

    def __init__(self, oldest_rev: int) -> None:
        super().__init__()
        self.oldest_rev = oldest_rev

    def details(self) -> dict[str, Any]:
        return {"oldest_rev": self.oldest_rev}


class RateLimited(SoloError):
    status, code = 429, "rate_limited"
    default_message = "Too many requests: retry after the given number of seconds."

    def __init__(
        self, *, limit: int, window: int, retry_after: int, rate_headers: dict[str, str]
    ) -> None:
        super().__init__()
        self.limit, self.window, self.retry_after = limit, window, retry_after
        self.rate_headers = rate_headers

    def details(self) -> dict[str, Any]:
        return {"limit": self.limit, "window": self.window, "retry_after": self.retry_after}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after), **self.rate_headers}


class TooManyStreams(SoloError):
    status, code = 429, "too_many_streams"
    default_message = "Too many open event streams: close one, or retry later."

    def __init__(self, *, limit: int, scope: str) -> None:
        super().__init__()
        self.limit, self.scope = limit, scope

    def details(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "scope": self.scope,
            "retry_after": limits.EVENT_STREAM_LEASE_SECONDS,
        }

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(limits.EVENT_STREAM_LEASE_SECONDS)}


class InternalError(SoloError):
    status, code = 500, "internal_error"


class Unavailable(SoloError):
    status, code = 503, "unavailable"
    default_message = "A dependency of the server does not answer."

    def __init__(self, checks: dict[str, str], message: str | None = None) -> None:
        super().__init__(message)
        self.checks = checks

    def details(self) -> dict[str, Any]:
        return {"checks": self.checks}

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(limits.RETRY_AFTER_SECONDS)}
