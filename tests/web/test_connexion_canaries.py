"""Canaries for connexion's private members that Solo overrides or reads: each fails when
an upgrade of connexion (pinned in requirements.lock) renames or reshapes one, before a
subtly broken server ships. Where an override is, its module says why."""

import inspect

import pytest
from connexion import AsyncApp, ConnexionMiddleware
from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.decorators import StarletteDecorator
from connexion.decorators import parameter as parameter_decorators
from connexion.decorators.parameter import AsyncParameterDecorator
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.operations import AbstractOperation, OpenAPIOperation
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
        (RequestValidationOperation, "validate_mime_type", ["self", "mime_type"]),
        (RequestValidationOperation, "extract_content_type", ["self", "headers"]),
        (RequestValidationAPI, "make_operation", ["self", "operation"]),
        (SwaggerUIMiddleware, "__init__", ["self", "app"]),
        (parameter_decorators, "_get_val_from_param", ["value", "param_definitions"]),
        (parameter_decorators, "_get_query_defaults", ["query_definitions"]),
        (OpenAPIOperation, "body_name", ["self", "_content_type"]),
        (ConnexionMiddleware, "_build_middleware_stack", ["self"]),
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


def test_the_request_validation_solo_builds_once_reads_what_connexion_sets():
    validation = RequestValidationOperation(
        None, operation="operation", strict_validation=True, validator_map={"body": "bodies"}
    )
    assert (validation._operation, validation._validator_map["body"]) == ("operation", "bodies")
    assert isinstance(inspect.getattr_static(validation, "security_query_params"), property)
    assert RequestValidationMiddleware.api_cls is RequestValidationAPI
    decorator = AsyncParameterDecorator(framework=None)
    assert decorator.sanitize_fn is parameter_decorators.sanitized
    assert parameter_decorators.CONTEXT_NAME == "context_"
    assert SwaggerUIMiddleware(app="next").app == "next"
    assert "self._uri_parser_class = uri_parser_class" in inspect.getsource(AbstractOperation)


def test_solos_app_puts_its_own_operations_where_connexion_looks_for_them():
    app = SoloAsyncApp(__name__)
    assert isinstance(app._middleware_app, _ASGIApp)
    assert app.middleware.app is app._middleware_app


def test_connexion_still_checks_a_document_through_the_classmethod_solo_replaces():
    source = inspect.getsource(Specification.__init__)
    assert "self._validate_spec(raw_spec)" in source
    assert isinstance(inspect.getattr_static(Specification, "_validate_spec"), classmethod)
    assert parameters(Specification._validate_spec) == ["spec"]
