"""The app connexion builds, with Solo's changes to how it is built."""

import copy

import pytest
from connexion.context import _operation
from connexion.exceptions import InvalidSpecification
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.middleware.request_validation import RequestValidationMiddleware
from connexion.middleware.routing import RoutingMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from connexion.operations import OpenAPIOperation
from connexion.spec import Specification

from solo.web import asgi_app
from solo.web.app import create_app
from solo.web.middleware.swagger_ui import SwaggerUi
from solo.web.request_validation import RequestValidation
from solo.web.routing import TagResolver
from solo.web.spec import for_connexion, load_spec


@pytest.fixture
def checks(monkeypatch) -> list[dict]:
    """Each document connexion's own metaschema check is run on."""
    seen: list[dict] = []
    check = asgi_app._check_against_metaschema.__func__

    def counted(cls, spec):
        seen.append(spec)
        check(cls, spec)

    monkeypatch.setattr(asgi_app, "_check_against_metaschema", classmethod(counted))
    monkeypatch.setattr(asgi_app, "_checked_documents", set())
    return seen


def test_a_document_is_checked_against_the_metaschema_once_per_process(checks):
    for _ in range(3):
        Specification.load(for_connexion(load_spec()))
    assert len(checks) == 1


def test_a_changed_document_is_checked_again_and_a_broken_one_refused_every_time(checks):
    Specification.load(for_connexion(load_spec()))
    broken = copy.deepcopy(for_connexion(load_spec()))
    broken["paths"]["/healthz"]["get"]["responses"] = "нічого"
    for _ in range(2):
        with pytest.raises(InvalidSpecification):
            Specification.load(copy.deepcopy(broken))
    assert len(checks) == 3


async def _takes_the_body(session_id: str, body: dict) -> None:
    """A handler that would take the body connexion's decorator offers."""


async def _takes_everything(session_id: str, **kwargs: object) -> None:
    """A handler that would take whatever connexion's decorator offers."""


@pytest.mark.parametrize("handler", [_takes_the_body, _takes_everything])
def test_a_handler_that_takes_the_body_is_refused_when_its_operation_is_decorated(handler):
    document = load_spec()
    diff = OpenAPIOperation.from_spec(
        Specification.load(for_connexion(document)),
        path="/sessions/{session_id}/diff/",
        method="patch",
        resolver=TagResolver(document),
    )
    token = _operation.set(diff)
    try:
        with pytest.raises(TypeError, match=f"{handler.__name__} takes the body"):
            asgi_app._Parameters(framework=StarletteFramework)(handler)
    finally:
        _operation.reset(token)


def test_solos_lighter_layers_stand_where_connexions_did(settings, deps):
    """The stack as connexion builds it for Solo's app: Solo's request validation and
    Swagger UI in the places of connexion's, every other layer where it was."""
    _, stack = create_app(settings, deps).middleware._build_middleware_stack()
    built = [type(layer) for layer in stack]
    assert RequestValidationMiddleware not in built and SwaggerUIMiddleware not in built
    assert built.index(SwaggerUi) < built.index(RoutingMiddleware) < built.index(RequestValidation)
