"""connexion's ASGI scope, read in one place.

connexion 3.3 keeps what its routing and security found in `scope["extensions"]`
(`connexion_routing`, `connexion_context`); Solo keeps its own per-request values in
`scope["state"]`. Every middleware and the error edge reads them through these functions,
so an upgrade of connexion that moves them breaks one module (tests/http/test_scope.py
drives a real request through the stack and reads each one back).
"""

from __future__ import annotations

from typing import Any

from connexion import context
from starlette.datastructures import Headers
from starlette.types import Scope

from solo.http.request_ids import fresh_request_id

_REQUEST_ID = "request_id"
_RESPONSE_HEADERS = "response_headers"
_BODY = "solo.body"


def current() -> Scope:
    """The scope of the request being handled, from connexion's context. Read it once:
    each use of connexion's `request` proxy builds a new request object, and its headers,
    from the scope again."""
    found: Scope = context.scope._get_current_object()
    return found


def headers(scope: Scope) -> Headers:
    return Headers(scope=scope)


def operation_id(scope: Scope) -> str | None:
    """The spec's operationId connexion routed the request to (None before routing, or for
    what no operation routes)."""
    found: str | None = scope.get("extensions", {}).get("connexion_routing", {}).get("operation_id")
    return found


def user(scope: Scope) -> str | None:
    """The caller connexion's security found (the token's `sub`), if any."""
    found: str | None = scope.get("extensions", {}).get("connexion_context", {}).get("user")
    return found


def path_parameter(scope: Scope, name: str) -> str | None:
    found: str | None = scope.get("path_params", {}).get(name)
    return found


def share_with_handlers(scope: Scope, **values: Any) -> None:
    """Put values in connexion's context, where security functions and handlers (as
    keyword arguments named alike, e.g. `deps`) find them."""
    scope.setdefault("extensions", {}).setdefault("connexion_context", {}).update(values)


def request_id_of(scope: Scope) -> str:
    """The id chosen for this request; a fresh one if it never passed the request context."""
    return scope.get("state", {}).get(_REQUEST_ID) or fresh_request_id()


def set_request_id(scope: Scope, request_id: str) -> None:
    scope.setdefault("state", {})[_REQUEST_ID] = request_id


def add_response_headers(scope: Scope, headers: dict[str, str]) -> None:
    """Headers an outer layer wants on the handler's answer (rate limits)."""
    scope.setdefault("state", {}).setdefault(_RESPONSE_HEADERS, {}).update(headers)


def response_headers(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = scope.get("state", {}).get(_RESPONSE_HEADERS, {})
    return found


def keep_body(scope: Scope, body: tuple[Any, bytes]) -> None:
    """The body the validator parsed, with its canonical JSON, for the handler."""
    scope.setdefault("state", {})[_BODY] = body


def kept_body(scope: Scope) -> tuple[Any, bytes] | None:
    found: tuple[Any, bytes] | None = scope.get("state", {}).get(_BODY)
    return found
