"""The edge where connexion's and starlette's exceptions become Solo errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from connexion.exceptions import (
    BadRequestProblem,
    NonConformingResponse,
    ProblemException,
    UnsupportedMediaTypeProblem,
)
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from starlette.exceptions import HTTPException

from solo import errors
from solo.db.failures import unavailable as database_unavailable
from solo.domain import jsonvalue
from solo.metrics import Metrics
from solo.middleware.request_context import request_id_of
from solo.spec import HTTP_METHODS
from solo.storage import StorageUnavailable
from solo.validators import short_message

log = logging.getLogger(__name__)


class RouteTable:
    """Which methods the spec declares for each path, for 405's `Allow`."""

    def __init__(self, base_path: str, paths: dict[str, Any]) -> None:
        self._routes: list[tuple[re.Pattern[str], list[str]]] = []
        for template, item in paths.items():
            pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(base_path + template))
            methods = [m.upper() for m in item if m in HTTP_METHODS]
            if "GET" in methods:
                methods.append("HEAD")
            self._routes.append((re.compile(pattern), sorted(methods)))

    def allowed(self, path: str) -> list[str]:
        for pattern, methods in self._routes:
            if pattern.fullmatch(path):
                return methods
        return []


def translate(exc: Exception, request: ConnexionRequest, routes: RouteTable) -> errors.SoloError:
    if isinstance(exc, errors.SoloError):
        return exc
    if isinstance(exc, StorageUnavailable):
        log.error("the snapshot store does not answer: %s", exc)
        return errors.Unavailable({"storage": "unavailable"})
    unavailable = database_unavailable(exc)
    if unavailable is not None:
        return unavailable
    if isinstance(exc, NonConformingResponse):
        log.error("response does not conform to the spec: %s", exc.detail)
        return errors.InternalError()
    if isinstance(exc, UnsupportedMediaTypeProblem):
        return errors.UnsupportedMediaType(media_type=request.headers.get("content-type", ""))
    if isinstance(exc, BadRequestProblem):
        return errors.InvalidRequest(short_message(exc.detail or ""))
    status = getattr(exc, "status_code", None)
    if isinstance(exc, ProblemException) and status == 401:
        return errors.Unauthorized()
    if isinstance(exc, HTTPException):
        if status == 404:
            return errors.NotFound()
        if status == 405:
            return errors.MethodNotAllowed(routes.allowed(request.url.path))
        if status in (401, 403):
            return errors.Unauthorized() if status == 401 else errors.Forbidden()
        if status is not None and 400 <= status < 500:
            return errors.InvalidRequest()
    log.error("unexpected error", exc_info=exc)
    return errors.InternalError()


def exception_handler(
    routes: RouteTable, metrics: Metrics
) -> Callable[[ConnexionRequest, Exception], ConnexionResponse]:
    """The handler connexion's exception middlewares call for everything raised."""

    def handle(request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        error = translate(exc, request, routes)
        routing = request.scope.get("extensions", {}).get("connexion_routing", {})
        metrics.error(routing.get("operation_id"), error.code)
        return render(error, request_id_of(request.scope))

    return handle


def render(error: errors.SoloError, request_id: str) -> ConnexionResponse:
    """The only place an error becomes an HTTP response."""
    body = {"error": error.code, "request_id": request_id, "message": error.message}
    body.update(error.details())
    try:
        encoded = jsonvalue.encode(body)
    except TypeError:
        # A detail echoed text that is not Unicode (a lone surrogate): leave the details out.
        encoded = jsonvalue.encode(
            {"error": error.code, "request_id": request_id, "message": error.default_message}
        )
    return ConnexionResponse(
        status_code=error.status,
        mimetype="application/json",
        body=encoded,
        headers={errors.REQUEST_ID_HEADER: request_id, **error.headers()},
    )
