"""The app factory: one spec, its handlers, the middleware stack and error rendering."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

from connexion import ConnexionMiddleware
from connexion.exceptions import ProblemException
from connexion.middleware import MiddlewarePosition
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions
from starlette.exceptions import HTTPException

from solo import API_BASE_PATH, limits
from solo.dependencies import Dependencies
from solo.runtime.metrics import LIFESPAN_STATE_KEY
from solo.services import cleanup, retention
from solo.services.sessions import ensure_exists
from solo.settings import Settings
from solo.web import spec as openapi
from solo.web.asgi_app import SoloAsyncApp
from solo.web.errors import RouteTable, exception_handler
from solo.web.http_protocol import HEAD_SECONDS, ON_SHUTDOWN
from solo.web.middleware.body_limit import BodyLimitMiddleware
from solo.web.middleware.cors import Cors
from solo.web.middleware.metrics_endpoint import MetricsEndpoint
from solo.web.middleware.rate_limit import RateLimitMiddleware
from solo.web.middleware.request_context import RequestContextMiddleware, ResponseHeadersMiddleware
from solo.web.middleware.spec_document import SpecDocumentMiddleware
from solo.web.routing import TagResolver
from solo.web.security import SECURITY_MAP
from solo.web.validators import validator_map

log = logging.getLogger(__name__)


def create_app(settings: Settings, deps: Dependencies | None = None) -> SoloAsyncApp:
    # connexion warns on every request to an operation with two request media types
    # (diff); the choice it announces is the one the spec intends.
    logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)
    deps = deps or Dependencies.build(settings)
    spec = openapi.load_spec()
    handle_error = exception_handler(RouteTable(API_BASE_PATH, spec["paths"]), deps.metrics.error)
    app = SoloAsyncApp(
        __name__,
        lifespan=functools.partial(_background_work, deps),
        middlewares=[
            # connexion's own ServerErrorMiddleware answers in plain text (upstream #2059).
            functools.partial(ServerErrorMiddleware, handler=handle_error),
            *ConnexionMiddleware.default_middlewares[1:],
        ],
    )
    app.add_middleware(
        RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, deps=deps
    )
    if settings.metrics:
        app.add_middleware(
            MetricsEndpoint,
            position=MiddlewarePosition.BEFORE_SWAGGER,
            exposition=deps.exposition,
            token=settings.metrics_token,
        )
    if settings.cors_origins:
        app.add_middleware(
            Cors, position=MiddlewarePosition.BEFORE_EXCEPTION, origins=settings.cors_origins
        )
    app.add_middleware(
        SpecDocumentMiddleware,
        position=MiddlewarePosition.BEFORE_SWAGGER,
        spec=spec,
        base_path=API_BASE_PATH,
    )
    app.add_middleware(
        RateLimitMiddleware,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        rate_limits=deps.rate_limits,
        groups=openapi.rate_limit_groups(spec),
    )
    app.add_middleware(
        BodyLimitMiddleware,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        body_limits=openapi.body_limits(spec),
        session_check=functools.partial(_ensure_exists, deps),
        body_deadline=settings.body_deadline_seconds,
    )
    app.add_middleware(ResponseHeadersMiddleware, position=MiddlewarePosition.BEFORE_CONTEXT)
    app.add_api(
        openapi.for_connexion(spec),
        base_path=API_BASE_PATH,
        resolver=TagResolver(spec),
        security_map=SECURITY_MAP,
        strict_validation=True,
        validate_responses=settings.validate_responses,
        validator_map=validator_map(spec),
        # The document is served as written by SpecDocumentMiddleware; the UI reads it there.
        swagger_ui_options=SwaggerUIOptions(serve_spec=False),
    )
    for exc_class in (Exception, HTTPException, ProblemException):
        app.add_error_handler(exc_class, handle_error)
    return app


@contextlib.asynccontextmanager
async def _background_work(deps: Dependencies, _app: object) -> AsyncIterator[dict[str, Any]]:
    """What a serving process does besides answering: sweeping the snapshot store, renewing
    its event streams' leases, and counting its state cache's lookups into the metrics.

    The state it yields is the server's lifespan state, which uvicorn hands to its protocol
    (solo/web/http_protocol.py): the protocol counts the answers it gives without the app
    there, and ends the event streams when shutdown begins."""
    loop = asyncio.get_running_loop()
    tasks = [
        loop.create_task(cleanup.sweeping(deps.database, deps.store, deps.clock)),
        loop.create_task(_reviewing_retention(deps)),
        loop.create_task(deps.stream_slots.renewing()),
        loop.create_task(_counting_cache(deps)),
    ]
    try:
        yield {
            LIFESPAN_STATE_KEY: deps.metrics,
            ON_SHUTDOWN: deps.feed.shut_down,
            HEAD_SECONDS: deps.settings.request_head_seconds,
        }
    finally:
        for task in tasks:
            task.cancel()


async def _ensure_exists(deps: Dependencies, user: str, session_id: uuid.UUID) -> None:
    await deps.database.in_database_thread(
        ensure_exists, deps.database.unit_of_work(), owner=user, session_id=session_id
    )


async def _reviewing_retention(deps: Dependencies) -> None:
    """Apply the retention policy to the sessions due, every SWEEP_SECONDS or so (jittered
    like the sweep); the objects it collects go with the sweep's recorded deletions."""
    while True:
        await asyncio.sleep(limits.SWEEP_SECONDS * random.uniform(0.5, 1.5))
        try:
            await retention.review_due(
                deps.database, deps.settings.retention, deps.clock, deps.metrics
            )
        except Exception:
            log.exception("applying the retention policy failed; trying again later")


async def _counting_cache(deps: Dependencies) -> None:
    while True:
        await asyncio.sleep(limits.METRICS_SYNC_SECONDS)
        deps.metrics.count_cache(deps.states)


def create_app_from_env() -> SoloAsyncApp:
    """Factory for ASGI servers (`uvicorn --factory solo.web.app:create_app_from_env`)."""
    settings = Settings.from_env()
    settings.refuse_unsafe_production()
    app = create_app(settings)
    # Everything built so far (the spec, its validators, the libraries' own tables) lives
    # as long as the process: keeping it out of the cycle collector's full passes takes a
    # ~100 ms pause off every one of them. Young collections are made rarer too, so that
    # fewer in-flight objects get promoted and full passes over the state cache (tens of
    # thousands of objects per large state) come rarely (bench/RESULTS.md).
    gc.collect()
    gc.freeze()
    gc.set_threshold(*limits.GC_THRESHOLDS)
    return app
