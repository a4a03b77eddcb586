"""Outermost Solo layer: the request id, and the dependencies handed to the app."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from solo.dependencies import Dependencies
from solo.errors import REQUEST_ID_HEADER
from solo.request_ids import fresh_request_id, is_sane


def request_id_of(scope: Scope) -> str:
    """The id chosen for this request; a fresh one if it never passed this middleware."""
    return scope.get("state", {}).get("request_id") or fresh_request_id()


class RequestContextMiddleware:
    """Chooses the request id, echoes it on every response and exposes `deps`.

    Sits outside connexion's exception middleware so that router 404/405 and
    every error response carry the id too.
    """

    def __init__(self, app: ASGIApp, deps: Dependencies) -> None:
        self.app = app
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = incoming if incoming and is_sane(incoming) else None
        request_id = request_id or fresh_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        context = scope.setdefault("extensions", {}).setdefault("connexion_context", {})
        context["deps"] = self.deps
        context["request_id"] = request_id

        await self.app(scope, receive, stamping(send, {REQUEST_ID_HEADER: request_id}))


class ResponseHeadersMiddleware:
    """Stamps the handlers' responses before response validation sees them: the request
    id, and what outer layers left in `scope["state"]["response_headers"]` (rate limits).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = scope.get("state", {}).get("response_headers", {})
        stamped = {REQUEST_ID_HEADER: request_id_of(scope), **extra}
        await self.app(scope, receive, stamping(send, stamped))


def stamping(send: Send, stamped: dict[str, str]) -> Send:
    async def send_stamped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            for name, value in stamped.items():
                if name not in headers:
                    headers.append(name, value)
        await send(message)

    return send_stamped
