"""connexion's AsyncApp, with each handler's decorators built once instead of per request.

connexion 3.3 rebuilds a handler's parameter and response decorators on every call
(`AsyncOperation.fn`), inspecting the handler's signature each time; what they compute
depends only on the handler, so Solo builds them when the operation is first called.

Private members of connexion 3.3 this relies on (tests/web/test_connexion_canaries.py
fails when an upgrade changes one): `AsyncOperation.fn` (a property) and `_fn`,
`pythonic_params`, `jsonifier`; `StarletteDecorator.decorate` and `framework.get_request`;
`AsyncApi.make_operation`; `AsyncASGIApp.api_cls`; `AsyncApp._middleware_app` and
`middleware.app`; `Specification._validate_spec` (a classmethod).

connexion also checks the whole document against the OpenAPI metaschema each time an app
is built (0.4 s of the 0.5 s `create_app` takes); Solo checks each distinct document once
per process, which matters where many apps are built (the tests build one per test).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.context import receive, scope
from connexion.decorators import StarletteDecorator
from connexion.operations import AbstractOperation
from connexion.spec import Specification


class _DecoratedOnce(StarletteDecorator):
    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        decorated = self.decorate(function)

        @functools.wraps(function)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            request = self.framework.get_request(
                uri_parser=self.uri_parser, scope=scope, receive=receive
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


class SoloAsyncApp(AsyncApp):
    def __init__(self, import_name: str, **kwargs: Any) -> None:
        super().__init__(import_name, **kwargs)
        self._middleware_app = _ASGIApp()
        self.middleware.app = self._middleware_app
