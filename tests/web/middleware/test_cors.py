"""CORS: answered only for configured origins; exposes what clients must read."""

import dataclasses

import pytest

from solo.http import refusals
from solo.web.app import create_app
from solo.web.middleware.cors import EXPOSE_HEADERS
from tests.support.bodies import error_body
from tests.support.clients import SpecCheckedClient

EDITOR_ASCII = "https://xn--e1afmkfd.example"


def _client(settings, deps, origins):
    configured = dataclasses.replace(settings, cors_origins=origins)
    return SpecCheckedClient(create_app(configured, deps), configured)


def test_a_preflight_from_an_allowed_origin_is_answered(settings, deps):
    client = _client(settings, deps, (EDITOR_ASCII,))
    response = client.request(
        "OPTIONS",
        "/sessions/5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10/diff/",
        validate=False,
        headers={
            "Origin": EDITOR_ASCII,
            "Access-Control-Request-Method": "PATCH",
            "Access-Control-Request-Headers": "authorization, if-match, content-type, x-rev",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == EDITOR_ASCII
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Max-Age"] == "7200"  # Chromium's longest
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    for header in ("authorization", "if-match", "content-type", "x-rev", "idempotency-key"):
        assert header in allowed


def test_responses_to_an_allowed_origin_expose_the_contract_headers(settings, deps):
    client = _client(settings, deps, (EDITOR_ASCII,))
    response = client.get("/sessions/", headers={"Origin": EDITOR_ASCII, **client.auth("олена")})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == EDITOR_ASCII
    exposed = {h.strip() for h in response.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed == set(EXPOSE_HEADERS)


def test_errors_carry_cors_headers_too(settings, deps):
    client = _client(settings, deps, (EDITOR_ASCII,))
    response = client.get("/sessions/", headers={"Origin": EDITOR_ASCII})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == EDITOR_ASCII


def test_without_configured_origins_no_cors_header_is_sent(client):
    response = client.get("/healthz", headers={"Origin": EDITOR_ASCII})
    assert response.status_code == 200
    assert not any(h.lower().startswith("access-control-") for h in response.headers)


def test_another_origin_gets_no_allow_origin(settings, deps):
    client = _client(settings, deps, (EDITOR_ASCII,))
    response = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_json_blob_beacon_preflight_is_allowed_with_credentials(settings, deps):
    """sendBeacon sends credentials mode `include`: the browser needs both headers."""
    client = _client(settings, deps, (EDITOR_ASCII,))
    response = client.request(
        "OPTIONS",
        "/sessions/5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10/beacon/?token=t",
        validate=False,
        headers={
            "Origin": EDITOR_ASCII,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == EDITOR_ASCII
    assert response.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize(
    ("origin", "request_headers", "message"),
    [
        ("https://evil.example", "content-type", "Disallowed CORS origin."),
        (EDITOR_ASCII, "content-type, x-not-allowed", "Disallowed CORS headers."),
    ],
)
def test_a_refused_preflight_is_403_in_the_error_shape(
    settings, deps, origin, request_headers, message
):
    client = _client(settings, deps, (EDITOR_ASCII,))
    response = client.request(
        "OPTIONS",
        "/sessions/",
        validate=False,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": request_headers,
            "X-Request-ID": "передполіт-1".encode().hex(),
        },
    )
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Request-ID"] == "передполіт-1".encode().hex()
    assert response.json() == error_body(response, refusals.Forbidden, message=message)


def test_any_origin_is_served_without_credentials(settings, deps):
    client = _client(settings, deps, ("*",))
    response = client.get("/healthz", headers={"Origin": EDITOR_ASCII})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
