"""Canaries for connexion's private members that Solo overrides or reads: each fails when
an upgrade of connexion (pinned in requirements.lock) renames or reshapes one, before a
subtly broken server ships. Where an override is, its module says why."""

import inspect

import pytest
from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.decorators import StarletteDecorator
from connexion.security import (
    AbstractSecurityHandler,
    ApiKeySecurityHandler,
    BearerSecurityHandler,
)
from connexion.spec import Specification
from connexion.validators import JSONRequestBodyValidator, JSONResponseBodyValidator
from connexion.validators.parameter import ParameterValidator

from solo.web.asgi_app import SoloAsyncApp, _ASGIApp


def parameters(function) -> list[str]:
    return list(inspect.signature(function).parameters)


@pytest.mark.parametrize(
    ("owner", "name", "expected"),
    [
        (AsyncApi, "make_operation", ["self", "operation"]),
        (StarletteDecorator, "decorate", ["self", "function"]),
        (JSONRequestBodyValidator, "_parse", ["self", "stream", "scope"]),
        (JSONRequestBodyValidator, "_validate", ["self", "body"]),
        (BearerSecurityHandler, "_resolve_func", ["self", "security_scheme"]),
        (AbstractSecurityHandler, "_accepts_kwarg", ["func", "keyword"]),
        (ApiKeySecurityHandler, "_resolve_func", ["self", "security_scheme"]),
        (
            ParameterValidator,
            "validate_parameter",
            ["parameter_type", "value", "param", "param_name"],
        ),
        (
            ParameterValidator,
            "validate_query_parameter_list",
            ["self", "request", "security_params"],
        ),
        (ParameterValidator, "validate_request", ["self", "request"]),
    ],
)
def test_the_methods_solo_overrides_are_still_there_with_their_parameters(owner, name, expected):
    assert parameters(getattr(owner, name)) == expected


@pytest.mark.parametrize(
    ("owner", "name"),
    [
        (AsyncOperation, "fn"),
        (JSONRequestBodyValidator, "_validator"),
        (JSONResponseBodyValidator, "validator"),
    ],
)
def test_the_properties_solo_overrides_are_still_properties(owner, name):
    assert isinstance(inspect.getattr_static(owner, name), property)


def test_the_attributes_solo_reads_are_set_where_it_expects():
    validator = JSONRequestBodyValidator(
        schema={"type": "object"}, required=True, encoding="utf-8", strict_validation=True
    )
    assert (validator._schema, validator._required) == ({"type": "object"}, True)
    checker = ParameterValidator([], uri_parser=None, strict_validation=True)
    assert (checker.strict_validation, checker.security_query_params) == (True, set())
    assert AsyncASGIApp.api_cls is AsyncApi
    assert isinstance(AsyncApp(__name__)._middleware_app, AsyncASGIApp)


def test_solos_app_puts_its_own_operations_where_connexion_looks_for_them():
    app = SoloAsyncApp(__name__)
    assert isinstance(app._middleware_app, _ASGIApp)
    assert app.middleware.app is app._middleware_app


def test_connexion_still_checks_a_document_through_the_classmethod_solo_replaces():
    source = inspect.getsource(Specification.__init__)
    assert "self._validate_spec(raw_spec)" in source
    assert isinstance(inspect.getattr_static(Specification, "_validate_spec"), classmethod)
    assert parameters(Specification._validate_spec) == ["spec"]
