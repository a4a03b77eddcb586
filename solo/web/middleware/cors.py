"""CORS: starlette's middleware, with credentials and refusals in the contract's shape.

`navigator.sendBeacon` sends with credentials mode `include`, so a JSON Blob's preflight
needs `Access-Control-Allow-Credentials: true` with the caller's own origin: credentials
are allowed whenever the origins are listed (never with `*`). A refused preflight is
`403 forbidden` in the one error shape rather than starlette's plain-text 400.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from solo import limits
from solo.http.refusals import Forbidden
from solo.http.scope import request_id_of
from solo.web.errors import render

ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Content-Encoding",
    "If-Match",
    "If-None-Match",
    "X-Rev",
    "Idempotency-Key",
    "Solo-Base-Rev",
    "X-Request-ID",
    "Last-Event-ID",
]
EXPOSE_HEADERS = [
    "ETag",
    "Location",
    "X-Request-ID",
    "Retry-After",
    "Deprecation",
    "Idempotent-Replayed",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Policy",
]
_ENTITY_HEADERS = {"content-length", "content-type"}


class Cors(CORSMiddleware):
    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        super().__init__(
            app,
            allow_origins=list(origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=ALLOW_HEADERS,
            allow_credentials="*" not in origins,
            expose_headers=EXPOSE_HEADERS,
            max_age=limits.CORS_PREFLIGHT_MAX_AGE_SECONDS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        headers = Headers(scope=scope)
        preflight = (
            scope["method"] == "OPTIONS"
            and "origin" in headers
            and "access-control-request-method" in headers
        )
        if not preflight:
            await super().__call__(scope, receive, send)
            return
        response = self.preflight_response(request_headers=headers)
        if response.status_code != 200:
            response = _refusal(response, request_id_of(scope))
        await response(scope, receive, send)


def _refusal(starlette_refusal: Response, request_id: str) -> Response:
    """starlette's "Disallowed CORS origin, headers" as a 403 in the contract's shape."""
    error = render(Forbidden(bytes(starlette_refusal.body).decode() + "."), request_id)
    headers = {
        name: value
        for name, value in starlette_refusal.headers.items()
        if name not in _ENTITY_HEADERS
    }
    return Response(
        error.body,
        status_code=error.status_code,
        headers={**headers, **error.headers},
        media_type=error.mimetype,
    )
