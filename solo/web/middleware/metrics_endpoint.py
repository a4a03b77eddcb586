"""`GET /metrics`: the Prometheus text format of every worker process's values.

An operator endpoint outside the API's base path, so not in the API's document (clients
and SDKs have no use for it; see the README). Set SOLO_METRICS=false to turn it off.

With SOLO_METRICS_TOKEN set, a scrape must send `Authorization: Bearer <that token>`,
else `401`: a token rather than a listen address of its own, because `solo serve` runs
its workers on one shared socket (a second listener would be a server of its own in each
worker) and a token works behind any balancer. It sits inside the exception middleware,
so a refusal is rendered and counted like any other error.

A scrape costs what solo.runtime.metrics.Exposition costs: one computation a second, on its own
thread, whatever the number of scrapes.
"""

from __future__ import annotations

import hmac

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from solo.http.refusals import Unauthorized
from solo.runtime.metrics import Exposition

METRICS_PATH = "/metrics"


class MetricsEndpoint:
    def __init__(self, app: ASGIApp, *, exposition: Exposition, token: str | None) -> None:
        self.app = app
        self.exposition = exposition
        self.token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != METRICS_PATH
            or scope["method"] not in ("GET", "HEAD")
        ):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.token is not None and not _bearer_is(headers, self.token):
            raise Unauthorized(
                "Scrapes send the bearer token set as SOLO_METRICS_TOKEN.",
                reason="invalid" if "authorization" in headers else "missing",
            )
        body = await self.exposition.text()
        await Response(body, media_type=CONTENT_TYPE_LATEST)(scope, receive, send)


def _bearer_is(headers: Headers, token: bytes) -> bool:
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    # Latin-1 gives back the header's own bytes; the comparison takes the same time
    # wherever the first difference is.
    offered = credentials.strip().encode("latin-1")
    return scheme.lower() == "bearer" and hmac.compare_digest(offered, token)
