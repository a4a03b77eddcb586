"""connexion's AsyncApp, with each handler's decorators built once instead of per request.

connexion 3.3 rebuilds a handler's parameter and response decorators on every call
(`AsyncOperation.fn`), inspecting the handler's signature each time; what they compute
depends only on the handler, so Solo builds them when the operation is first called. Its
parameter decorator also reads the operation's parameter definitions anew for every request,
and offers the body to handlers that never take it: Solo's reads them once, and refuses a
handler that takes the body or `**kwargs` when its operation is first called (Solo's handlers
read the body the validator parsed, from the scope: solo.http.bodies).

Private members of connexion 3.3 this relies on (tests/web/test_connexion_canaries.py
fails when an upgrade changes one): `AsyncOperation.fn` (a property) and `_fn`,
`pythonic_params`, `jsonifier`; `StarletteDecorator.decorate` and `framework.get_request`;
`AsyncApi.make_operation`; `AsyncASGIApp.api_cls`; `AsyncApp._middleware_app` and
`middleware.app`; `ConnexionMiddleware._build_middleware_stack` and `middlewares`;
`Specification._validate_spec` (a classmethod); in
connexion.decorators.parameter, `_get_val_from_param`, `_get_query_defaults` and
`BaseParameterDecorator.sanitize_fn`; `OpenAPIOperation.body_name`.

connexion also checks the whole document against the OpenAPI metaschema each time an app
is built (0.4 s of the 0.5 s `create_app` takes); Solo checks each distinct document once
per process, which matters where many apps are built (the tests build one per test).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from connexion import AsyncApp, ConnexionMiddleware
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.context import context, operation, receive, scope
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import (
    CONTEXT_NAME,
    AsyncParameterDecorator,
    _get_query_defaults,
    _get_val_from_param,
    unwrap_decorators,
)
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.operations import AbstractOperation
from connexion.spec import Specification
from connexion.utils import inspect_function_arguments

from solo.web.middleware.swagger_ui import SwaggerUi
from solo.web.request_validation import RequestValidation


class _Parameters(AsyncParameterDecorator):
    """The handler's arguments: its path and query parameters, converted to their schema's
    type (the query's defaults filled in), and the security context it asks for.

    Where connexion would differ, Solo's spec gives it nothing to differ on: defaults are
    merged shallowly (connexion merges object parameters deeply; the spec has none), a path
    value the spec does not define is not passed on, and a path parameter would win over a
    query parameter of the same name (the spec has no such pair)."""

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        arguments, has_kwargs = inspect_function_arguments(unwrap_decorators(function))
        body_name = self.sanitize_fn(operation.body_name(None))
        if has_kwargs or body_name in arguments:
            raise TypeError(f"{function.__name__} takes the body: read it from the scope")
        definitions = {p["name"]: p for p in operation.parameters if p["in"] in ("path", "query")}
        names = {name: self.sanitize_fn(name) for name in definitions}
        taken = {
            name: definition for name, definition in definitions.items() if names[name] in arguments
        }
        defaults = _get_query_defaults(
            {name: p for name, p in definitions.items() if p["in"] == "query"}
        )

        @functools.wraps(function)
        async def wrapper(request: ConnexionRequest) -> Any:
            given = {**copy.deepcopy(defaults), **request.query_params, **request.path_params}
            kwargs = {
                names[name]: _get_val_from_param(value, taken[name])
                for name, value in given.items()
                if name in taken
            }
            kwargs.update((key, value) for key, value in context.items() if key in arguments)
            if CONTEXT_NAME in arguments:
                kwargs[CONTEXT_NAME] = context
            return await function(**kwargs)

        return wrapper


class _DecoratedOnce(StarletteDecorator):
    @property
    def _parameter_decorator_cls(self) -> type[AsyncParameterDecorator]:
        return _Parameters

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        decorated = self.decorate(function)
        uri_parser = self.uri_parser

        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = self.framework.get_request(
                uri_parser=uri_parser, scope=scope, receive=receive
            )
            return await decorated(request)

        return wrapper


class _Operation(AsyncOperation):
    @functools.cached_property
    def fn(self) -> Callable[..., Any]:
        return _DecoratedOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)(
            self._fn
        )


class _Api(AsyncApi):
    def make_operation(self, operation: AbstractOperation) -> AsyncOperation:
        return _Operation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


class _ASGIApp(AsyncASGIApp):
    api_cls = _Api


_check_against_metaschema = Specification._validate_spec
_checked_documents: set[tuple[type, str]] = set()


def _validate_spec_once(cls: type[Specification], spec: dict[str, Any]) -> None:
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()
    if (cls, digest) not in _checked_documents:
        _check_against_metaschema.__func__(cls, spec)
        _checked_documents.add((cls, digest))


Specification._validate_spec = classmethod(_validate_spec_once)


_LIGHTER: dict[Any, Any] = {
    RequestValidationMiddleware: RequestValidation,
    SwaggerUIMiddleware: SwaggerUi,
}


class _Middleware(ConnexionMiddleware):
    """connexion's stack, with Solo's request validation and Swagger UI in place of
    connexion's: subclasses that do the same with less work per request. They take their
    places only as the stack is built, since connexion places each middleware added before
    (`add_middleware(position=…)`) by the class of its own."""

    middlewares: list[Any]

    def _build_middleware_stack(self) -> Any:
        self.middlewares = [_LIGHTER.get(middleware, middleware) for middleware in self.middlewares]
        return super()._build_middleware_stack()


class SoloAsyncApp(AsyncApp):
    def __init__(self, import_name: str, **kwargs: Any) -> None:
        super().__init__(import_name, **kwargs)
        self._middleware_app = _ASGIApp()
        self.middleware.app = self._middleware_app
        # connexion builds its own ConnexionMiddleware; Solo's differs only in building
        # the stack, which has not happened yet.
        self.middleware.__class__ = _Middleware
