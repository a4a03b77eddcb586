"""Body limits before any parsing: fast fail, counted streams, bounded gzip, a deadline."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from solo import limits
from solo.http import scope as connexion_scope
from solo.http.refusals import PayloadTooLarge, Refusal, RequestTimeout, UnsupportedMediaType
from solo.web.inflater import BoundedInflater, OverLimit

SessionCheck = Callable[[str, uuid.UUID], Awaitable[None]]
"""Raises NotFound unless the user has that session."""

_GZIP = {"gzip", "x-gzip"}
_IDENTITY = {"", "identity"}


class BodyLimitMiddleware:
    """Placed after routing and security, before connexion reads the body."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_limits: dict[str, int],
        session_check: SessionCheck,
        body_deadline: int = limits.BODY_DEADLINE_SECONDS,
    ) -> None:
        self.app = app
        self.body_limits = body_limits
        """Limit by the spec's operationId connexion routes to."""
        self.session_check = session_check
        """The 404 that comes before a body's refusal (existence before the body)."""
        self.body_deadline = body_deadline
        """Seconds a body has to arrive whole."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        operation = connexion_scope.operation_id(scope)
        limit = None if operation is None else self.body_limits.get(operation)
        if scope["type"] != "http" or limit is None:
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read(scope, receive, limit)
        except (Refusal, OverLimit) as refusal:
            raise await self._answer_to(scope, refusal, limit) from None
        if body is None:
            return
        headers = MutableHeaders(scope=scope)
        for name in ("content-encoding", "transfer-encoding", "content-length"):
            del headers[name]
        headers["content-length"] = str(len(body))
        if "content-type" in headers:
            # Media types are case-insensitive (RFC 9110 §8.3.1), but connexion picks the
            # body's schema and parser by the exact string; the parameters Solo's types
            # take (charset) are case-insensitive too.
            headers["content-type"] = headers["content-type"].lower()
        await self.app(scope, _replaying(body, receive), send)

    async def _read(self, scope: Scope, receive: Receive, limit: int) -> bytes | None:
        headers = Headers(scope=scope)
        coding = headers.get("content-encoding", "").strip().lower()
        if coding not in _GZIP and coding not in _IDENTITY:
            raise UnsupportedMediaType(encoding=coding)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            raise OverLimit()
        inflater = BoundedInflater(limit) if coding in _GZIP else None
        deadline = self.body_deadline
        received, parts = 0, []
        try:
            async with asyncio.timeout(deadline):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    received += len(chunk)
                    if received > limit:
                        raise OverLimit()
                    parts.append(inflater.feed(chunk) if inflater else chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise RequestTimeout(deadline) from None
        if inflater is not None:
            parts.append(inflater.finish())
        body = b"".join(parts)
        if body and "content-type" not in headers:
            # RFC 9110 §8.3: an untyped body is application/octet-stream, which no
            # operation takes; guessing JSON would make the missing header invisible.
            raise UnsupportedMediaType(media_type="")
        return body

    async def _answer_to(self, scope: Scope, refusal: Exception, limit: int) -> Refusal:
        """The error for a refused body, after the 404 that comes before it."""
        session_id = connexion_scope.path_parameter(scope, "session_id")
        user = connexion_scope.user(scope)
        if session_id and user and _is_uuid(session_id):
            await self.session_check(user, uuid.UUID(session_id))
        if isinstance(refusal, OverLimit):
            coding = Headers(scope=scope).get("content-encoding", "").strip().lower()
            return PayloadTooLarge(
                limit=limit, encoding="gzip" if coding in _GZIP else "raw", endpoint=scope["path"]
            )
        assert isinstance(refusal, Refusal)
        return refusal


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _replaying(body: bytes, receive: Receive) -> Callable[[], Awaitable[Message]]:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
