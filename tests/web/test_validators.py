"""One strict way in for every JSON body: what no decoder downstream may ever meet."""

import pytest

from solo import limits
from solo.web import refusals
from tests.support.bodies import error_body

LONE_SURROGATE = b'"\\ud800"'
TOO_DEEP = refusals.InvalidJson(
    f"The request body nests deeper than {limits.JSON_DEPTH_LIMIT} levels."
)


def nested(levels: int) -> bytes:
    """A JSON value `levels` deep: arrays and objects in turn, with Ukrainian keys."""
    opening = "".join('{"р":' if level % 2 else "[" for level in range(levels))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(levels)))
    return f'{opening}"лист"{closing}'.encode()


BODIES = {
    "create": ("POST", "", '{"state": {"поле": %s}}', "application/json"),
    "diff": (
        "PATCH",
        "diff/",
        '{"ops": [{"op": "add", "path": "/поле", "value": %s}]}',
        "application/json",
    ),
    "json-patch": (
        "PATCH",
        "diff/",
        '[{"op": "add", "path": "/поле", "value": %s}]',
        "application/json-patch+json",
    ),
    "save-stream": ("POST", "save-stream/", '{"поле": %s}', "application/json"),
    "beacon-json": ("POST", "beacon/", '{"подія": %s}', "application/json"),
    "beacon-text": ("POST", "beacon/", '{"подія": %s}', "text/plain;charset=UTF-8"),
}


def post(client, endpoint: str, value: bytes):
    auth = client.auth("олена")
    created = client.post("/sessions/", json={"state": {"старе": 1}}, headers=auth)
    session_id = created.json()["id"]
    method, suffix, template, media_type = BODIES[endpoint]
    path = "/sessions/" if endpoint == "create" else f"/sessions/{session_id}/{suffix}"
    body = template.encode().replace(b"%s", value)
    headers = {**auth, "Content-Type": media_type, "If-Match": '"0"'}
    response = client.request(method, path, content=body, headers=headers)
    after = client.get(f"/sessions/{session_id}/", headers=auth).json()
    assert (after["rev"], after["state"], after["last_seen_at"]) == (0, {"старе": 1}, None)
    return response


@pytest.mark.parametrize("endpoint", list(BODIES))
def test_a_lone_surrogate_is_400_invalid_json(client, endpoint):
    response = post(client, endpoint, LONE_SURROGATE)
    assert response.status_code == 400
    assert response.json() == error_body(response, refusals.InvalidJson)


@pytest.mark.parametrize("levels", [limits.JSON_DEPTH_LIMIT, 600, 970, 5000])
@pytest.mark.parametrize("endpoint", list(BODIES))
def test_nesting_past_the_limit_is_400_invalid_json_at_any_depth(client, endpoint, levels):
    response = post(client, endpoint, nested(levels))
    assert response.status_code == 400
    assert response.json() == error_body(response, TOO_DEEP)


@pytest.mark.parametrize("endpoint", ["create", "diff", "save-stream", "beacon-text"])
def test_nesting_within_the_limit_is_taken(client, endpoint):
    auth = client.auth("олена")
    created = client.post("/sessions/", json={"state": {}}, headers=auth)
    method, suffix, template, media_type = BODIES[endpoint]
    session_id = created.json()["id"]
    path = "/sessions/" if endpoint == "create" else f"/sessions/{session_id}/{suffix}"
    body = template.encode().replace(b"%s", nested(limits.JSON_DEPTH_LIMIT - 4))
    headers = {**auth, "Content-Type": media_type, "If-Match": '"0"'}
    response = client.request(method, path, content=body, headers=headers)
    assert response.status_code in (200, 201, 204), response.text
