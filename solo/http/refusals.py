"""What the HTTP layer itself refuses, before or around the domain: plain exceptions with
their data. solo.web.errors maps each, like the domain's errors, to the contract's answer.
"""

from __future__ import annotations


class Refusal(Exception):
    """A request the HTTP layer refuses. `message`, when given, replaces the usual words."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or type(self).__name__)
        self.message = message


class InvalidRequest(Refusal):
    """A parameter, header or body that breaks the spec's schema."""

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class InvalidJson(Refusal):
    """A body that must be JSON and is not strict UTF-8 JSON."""


class InvalidEncoding(Refusal):
    """A gzip body that is corrupt or truncated."""


class Unauthorized(Refusal):
    """No credential, or one that is malformed, forged or expired (`reason`)."""

    def __init__(self, message: str | None = None, *, reason: str = "missing") -> None:
        super().__init__(message)
        self.reason = reason


class Forbidden(Refusal):
    """A signed URL or scoped token that does not open this resource."""


class MethodNotAllowed(Refusal):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__()
        self.allowed = allowed


class RequestTimeout(Refusal):
    def __init__(self, deadline: int) -> None:
        super().__init__()
        self.deadline = deadline


class PayloadTooLarge(Refusal):
    def __init__(self, *, limit: int, encoding: str, endpoint: str) -> None:
        super().__init__()
        self.limit, self.encoding, self.endpoint = limit, encoding, endpoint


class UnsupportedMediaType(Refusal):
    """A Content-Type (`media_type`) or Content-Encoding (`encoding`) not taken here."""

    def __init__(self, *, media_type: str | None = None, encoding: str | None = None) -> None:
        super().__init__()
        self.media_type, self.encoding = media_type, encoding


class RateLimited(Refusal):
    def __init__(
        self, *, limit: int, window: int, retry_after: int, rate_headers: dict[str, str]
    ) -> None:
        super().__init__()
        self.limit, self.window, self.retry_after = limit, window, retry_after
        self.rate_headers = rate_headers


class InternalError(Refusal):
    """Anything unexpected: never carries internals."""
