"""Every layer's errors come out in the one shape, with the request id."""

import dataclasses

import pytest

from solo.domain import errors as domain
from solo.http import refusals
from solo.web.app import create_app
from tests.support.bodies import error_body, usual_message
from tests.support.clients import SpecCheckedClient


def test_an_unknown_route_is_404_in_the_error_shape(client):
    response = client.get("/не-існує", validate=False, headers={"X-Request-ID": "req-1"})
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {
        "error": "not_found",
        "request_id": "req-1",
        "message": usual_message(domain.NotFound),
    }


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/sessions/", "GET, HEAD, POST"),
        ("POST", "/sessions/5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10/", "DELETE, GET, HEAD"),
        ("GET", "/sessions/5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10/diff/", "PATCH"),
    ],
)
def test_a_wrong_method_is_405_listing_every_allowed_method(client, method, path, allow):
    response = client.request(method, path, validate=False, headers=client.auth("олена"))
    assert response.status_code == 405
    assert response.headers["Allow"] == allow
    assert response.json() == error_body(response, refusals.MethodNotAllowed([]))


class _Explodes(Exception):
    pass


def _exploding_clock():
    raise _Explodes("password=hunter2 at /srv/solo/secret.py line 7")


def test_an_unexpected_exception_is_500_without_internals(settings, deps):
    broken = dataclasses.replace(deps, clock=_exploding_clock)
    client = SpecCheckedClient(create_app(settings, broken), settings)
    response = client.post("/sessions/", json={"state": {}}, headers=client.auth("олена"))
    assert response.status_code == 500
    assert response.json() == error_body(response, refusals.InternalError)
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content


def test_a_response_the_spec_does_not_allow_is_500_not_a_leak(settings, deps, monkeypatch):
    from solo.services import writes

    def unspecified(cls, revision, logged=None):
        return writes.Written(revision.rev, None, {"rev": "не число", "updated_at": "x"})

    monkeypatch.setattr(writes.Written, "made", classmethod(unspecified))
    client = SpecCheckedClient(create_app(settings, deps), settings)
    created = client.post("/sessions/", json={"state": {}}, headers=client.auth("олена"))
    session_id = created.json()["id"]
    response = client.patch(
        f"/sessions/{session_id}/diff/",
        json={"ops": [{"op": "add", "path": "/a", "value": 1}]},
        headers={**client.auth("олена"), "If-Match": '"0"'},
    )
    assert response.status_code == 500
    assert response.json() == error_body(response, refusals.InternalError)
