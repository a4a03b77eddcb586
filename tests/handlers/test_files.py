"""The local store's signed download URLs through HTTP: 200, or 403 in the error shape."""

import dataclasses
import datetime as dt

import pytest

from solo.web import refusals
from tests.support.bodies import error_body


@pytest.fixture
def client(settings, clock, make_client):
    return make_client(dataclasses.replace(settings, signed_url_ttl=60), clock)[0]


def snapshot_url(client) -> str:
    auth = client.auth("олена")
    session_id = client.post("/sessions/", json={"state": {"а": 1}}, headers=auth).json()["id"]
    return client.post(f"/sessions/{session_id}/snapshot/", headers=auth).json()["url"]


def test_the_url_downloads_the_snapshot_without_a_token(client):
    response = client.get(snapshot_url(client))
    assert response.status_code == 200
    assert response.json()["state"] == {"а": 1}
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_an_expired_url_is_403(client, clock):
    url = snapshot_url(client)
    clock.now += dt.timedelta(seconds=60)
    response = client.get(url)
    assert response.status_code == 403
    assert response.json() == error_body(
        response, refusals.Forbidden, message="This link is expired or was altered."
    )


def test_a_tampered_url_is_403(client):
    url = snapshot_url(client)
    tampered = url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB")
    response = client.get(tampered)
    assert response.status_code == 403
    assert response.json()["error"] == "forbidden"
