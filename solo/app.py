"""The app factory: one spec, its handlers, the middleware stack and error rendering."""

from __future__ import annotations

import functools
import logging
import pathlib

import yaml
from connexion import ConnexionMiddleware
from connexion.exceptions import ProblemException
from connexion.middleware import MiddlewarePosition
from connexion.middleware.server_error import ServerErrorMiddleware
from connexion.options import SwaggerUIOptions
from connexion.resolver import RelativeResolver
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from solo import API_BASE_PATH, limits
from solo.asgi_app import SoloAsyncApp
from solo.dependencies import Dependencies
from solo.middleware.body_limit import BodyLimitMiddleware
from solo.middleware.errors import RouteTable, exception_handler
from solo.middleware.rate_limit import RateLimitMiddleware
from solo.middleware.request_context import RequestContextMiddleware, ResponseHeadersMiddleware
from solo.settings import Settings
from solo.validators import validator_map

SPEC_PATH = pathlib.Path(__file__).resolve().parents[1] / "openapi" / "solo.yaml"
HANDLERS = "solo.handlers"

CORS_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Content-Encoding",
    "If-Match",
    "If-None-Match",
    "X-Rev",
    "Idempotency-Key",
    "X-Request-ID",
]
CORS_EXPOSE_HEADERS = [
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


def load_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def _by_handler(by_operation_id: dict) -> dict:
    """Re-key by the dotted handler name, which is what connexion puts in the scope."""
    return {f"{HANDLERS}.{op}": value for op, value in by_operation_id.items()}


def create_app(settings: Settings, deps: Dependencies | None = None) -> SoloAsyncApp:
    # connexion warns on every request to an operation with two request media types
    # (diff); the choice it announces is the one the spec intends.
    logging.getLogger("connexion.operations.openapi3").setLevel(logging.ERROR)
    deps = deps or Dependencies.build(settings)
    spec = load_spec()
    handle_error = exception_handler(RouteTable(API_BASE_PATH, spec["paths"]))
    app = SoloAsyncApp(
        __name__,
        middlewares=[
            # connexion's own ServerErrorMiddleware answers in plain text (upstream #2059).
            functools.partial(ServerErrorMiddleware, handler=handle_error),
            *ConnexionMiddleware.default_middlewares[1:],
        ],
    )
    app.add_middleware(
        RequestContextMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION, deps=deps
    )
    app.add_middleware(
        RateLimitMiddleware,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        rate_limits=deps.rate_limits,
        groups=_by_handler(limits.RATE_LIMIT_GROUPS),
    )
    app.add_middleware(
        BodyLimitMiddleware,
        position=MiddlewarePosition.BEFORE_VALIDATION,
        deps=deps,
        body_limits=_by_handler(limits.BODY_LIMITS),
    )
    app.add_middleware(ResponseHeadersMiddleware, position=MiddlewarePosition.BEFORE_CONTEXT)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            position=MiddlewarePosition.BEFORE_EXCEPTION,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=CORS_ALLOW_HEADERS,
            expose_headers=CORS_EXPOSE_HEADERS,
            max_age=600,
        )
    app.add_api(
        spec,
        base_path=API_BASE_PATH,
        resolver=RelativeResolver(HANDLERS),
        strict_validation=True,
        validate_responses=settings.validate_responses,
        validator_map=validator_map(),
        swagger_ui_options=SwaggerUIOptions(spec_path="/openapi.json"),
    )
    for exc_class in (Exception, HTTPException, ProblemException):
        app.add_error_handler(exc_class, handle_error)
    return app


def create_app_from_env() -> SoloAsyncApp:
    """Factory for ASGI servers (`uvicorn --factory solo.app:create_app_from_env`)."""
    return create_app(Settings.from_env())
