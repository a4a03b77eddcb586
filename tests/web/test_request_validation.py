"""connexion's request validation with each operation's validators built once: the same
answers as connexion's, whatever the media types a client makes up."""

import json

import pytest

from solo import limits
from solo.http import refusals
from solo.web.spec import load_spec
from tests.support.bodies import error_body

OPS = {"ops": [{"op": "add", "path": "/назва", "value": "Чернетка"}]}


@pytest.fixture
def session(client) -> tuple[dict[str, str], str]:
    auth = client.auth("олена")
    created = client.post("/sessions/", json={"state": {}}, headers=auth)
    return auth, created.json()["id"]


def diff(client, session, media_type: str, body: object):
    auth, session_id = session
    headers = {**auth, "Content-Type": media_type, "If-Match": "*"}
    content = json.dumps(body).encode()
    return client.patch(f"/sessions/{session_id}/diff/", content=content, headers=headers)


def test_more_made_up_media_types_than_are_remembered_are_each_refused(client, session):
    for n in range(limits.MEDIA_TYPES_KEPT + 3):
        response = diff(client, session, f"application/x-chernetka-{n}", {"ops": []})
        assert response.status_code == 415, response.text
        assert response.json()["error"] == "unsupported_media_type"


@pytest.mark.parametrize("charset", ["", "; charset=utf-8", "; charset=UTF-8"])
def test_each_spelling_of_a_media_type_validates_the_body(client, session, charset):
    for _ in range(2):  # once built, once remembered
        refused = diff(client, session, f"application/json{charset}", {"ops": "усе"})
        assert refused.status_code == 400
        assert refused.json() == error_body(
            refused, refusals.InvalidRequest("ops: 'усе' is not of type 'array'"), field="ops"
        )
    taken = diff(client, session, f"application/json{charset}", OPS)
    assert taken.status_code == 200, taken.text


@pytest.mark.parametrize("session_id", ["5B0D7A4E-2F6B-4C7E-9A11-3F2D9C8E7A1", "чернетка"])
def test_a_remembered_parameter_verdict_is_the_same_verdict(client, session_id):
    auth = client.auth("олена")
    pattern = load_spec()["components"]["parameters"]["SessionId"]["schema"]["pattern"]
    refused = refusals.InvalidRequest(f"session_id: {session_id!r} does not match {pattern!r}")
    for _ in range(3):
        response = client.get(f"/sessions/{session_id}/", headers=auth)
        assert response.status_code == 400
        assert response.json() == error_body(response, refused, field="session_id")
