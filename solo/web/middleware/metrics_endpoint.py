"""`GET /metrics`: the Prometheus text format of every worker process's values.

An operator endpoint outside the API's base path, so not in the API's document (clients
and SDKs have no use for it; see the README). Set SOLO_METRICS=false to turn it off, or
keep the path from the public side of the load balancer.
"""

from __future__ import annotations

import asyncio

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from solo.dependencies import Dependencies

METRICS_PATH = "/metrics"


class MetricsEndpoint:
    def __init__(self, app: ASGIApp, deps: Dependencies) -> None:
        self.app = app
        self.deps = deps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] != METRICS_PATH
            or scope["method"] not in ("GET", "HEAD")
        ):
            await self.app(scope, receive, send)
            return
        self.deps.metrics.count_cache(self.deps.states)
        # Reading every process's files is blocking I/O: off the event loop.
        body = await asyncio.to_thread(self.deps.metrics.exposition)
        await Response(body, media_type=CONTENT_TYPE_LATEST)(scope, receive, send)
