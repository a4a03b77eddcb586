"""Outermost Solo layer: the request id, and the dependencies handed to the app."""

from __future__ import annotations

import time

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from solo.dependencies import Dependencies
from solo.http import scope as connexion_scope
from solo.http.request_ids import REQUEST_ID_HEADER, fresh_request_id, is_sane
from solo.runtime import logs
from solo.storage.factory import FILES_URL


class RequestContextMiddleware:
    """Chooses the request id, echoes it on every response and exposes `deps`.

    Sits outside connexion's exception middleware so that router 404/405 and
    every error response carry the id too.
    """

    def __init__(self, app: ASGIApp, deps: Dependencies) -> None:
        self.app = app
        self.deps = deps
        self.access_log = deps.settings.access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = incoming if incoming and is_sane(incoming) else None
        request_id = request_id or fresh_request_id()
        connexion_scope.set_request_id(scope, request_id)
        connexion_scope.share_with_handlers(scope, deps=self.deps, request_id=request_id)
        logged_as = logs.REQUEST_ID.set(request_id)
        status = 500  # what uvicorn answers if nothing is sent (ServerError always sends)

        async def send_stamped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                if REQUEST_ID_HEADER not in headers:
                    headers.append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_stamped)
        finally:
            seconds = time.perf_counter() - started
            operation = connexion_scope.operation_id(scope)
            self.deps.metrics.request(operation, status, seconds)
            if self.access_log:
                _log_access(scope, operation, status, seconds)
            logs.REQUEST_ID.reset(logged_as)


_DOWNLOADS = FILES_URL + "/"
_REDACTED_DOWNLOAD_PATH = _DOWNLOADS + "<redacted>"


def _logged_path(path: str) -> str:
    """The path as the access log shows it: a download's token is a credential (it opens
    the snapshot until it expires), so everything after `files/` is left out."""
    return _REDACTED_DOWNLOAD_PATH if path.startswith(_DOWNLOADS) else path


def _log_access(scope: Scope, operation: str | None, status: int, seconds: float) -> None:
    logs.access.info(
        "%s %s %s",
        scope["method"],
        _logged_path(scope["path"]),
        status,
        extra={"operation": operation, "status": status, "ms": round(seconds * 1000, 3)},
    )


class ResponseHeadersMiddleware:
    """Stamps the handlers' responses before response validation sees them: the request
    id, and the headers outer layers asked for (rate limits).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = connexion_scope.response_headers(scope)
        stamped = {REQUEST_ID_HEADER: connexion_scope.request_id_of(scope), **extra}
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
