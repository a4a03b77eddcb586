"""The local store's signed download URLs through HTTP: 200, or 403 in the error shape."""

import dataclasses
import datetime as dt
import uuid
from urllib.parse import quote, unquote

import pytest

from solo.http import refusals
from tests.support.bodies import error_body
from tests.support.tokens import other_spellings, session_forms, shows_any, user_forms


@pytest.fixture
def client(settings, clock, make_client):
    return make_client(dataclasses.replace(settings, signed_url_ttl=60), clock)[0]


def snapshot_url(client, user="олена") -> str:
    return snapshot(client, user)[1]


def snapshot(client, user="олена") -> tuple[str, str]:
    """The new session's id and its snapshot's URL."""
    auth = client.auth(user)
    session_id = client.post("/sessions/", json={"state": {"а": 1}}, headers=auth).json()["id"]
    return session_id, client.post(f"/sessions/{session_id}/snapshot/", headers=auth).json()["url"]


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


def test_a_token_spelled_otherwise_is_403(client):
    url = snapshot_url(client)
    base, token = url.rsplit("/", 1)
    # A `/` of the standard alphabet would make another path (404): not a token at all.
    for spelling in [text for text in other_spellings(unquote(token)) if "/" not in text]:
        response = client.get(f"{base}/{quote(spelling, safe='')}")
        assert response.status_code == 403, spelling
        assert response.json() == error_body(
            response, refusals.Forbidden, message="This link is expired or was altered."
        )
    assert client.get(url).status_code == 200


def test_the_url_shows_neither_user_nor_session(client):
    session_id, url = snapshot(client, user="олена.коваленко")
    token = unquote(url.rsplit("/", 1)[1])
    ids = user_forms("олена.коваленко") + session_forms(uuid.UUID(session_id))
    assert not shows_any(token, ids)
