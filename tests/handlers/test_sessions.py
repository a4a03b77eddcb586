"""Contract tests: create, read, list and delete sessions."""

import base64
import datetime as dt
import json
import uuid

import jwt
import pytest

from solo import limits
from solo.domain import errors as domain
from solo.http import refusals
from tests.conftest import TEST_JWT_SECRET
from tests.support.bodies import error_body, precondition_body, usual_message
from tests.support.clients import ORIGIN

STATE = {"назва": "Чернетка", "блоки": [{"тип": "абзац", "текст": "Привіт, світе"}]}


def create(client, user="олена", state=STATE):
    response = client.post("/sessions/", json={"state": state}, headers=client.auth(user))
    assert response.status_code == 201
    return response.json()["id"], response


def test_create_answers_the_whole_session_with_location_and_etag(settings, clock, make_client):
    client, _ = make_client(settings, clock)
    session_id, response = create(client)
    body = response.json()
    beacon_prefix = f"{ORIGIN}/api/v1/solo/sessions/{session_id}/beacon/?token="
    events_prefix = f"{ORIGIN}/api/v1/solo/sessions/{session_id}/events/?token="
    assert body == {
        "id": session_id,
        "rev": 0,
        "state": STATE,
        "created_at": clock.stamp,
        "updated_at": clock.stamp,
        "last_seen_at": None,
        "beacon_url": beacon_prefix + body["beacon_url"].removeprefix(beacon_prefix),
        "events_url": events_prefix + body["events_url"].removeprefix(events_prefix),
    }
    assert body["beacon_url"] != beacon_prefix
    assert body["events_url"] != events_prefix
    assert response.headers["Location"] == f"{ORIGIN}/api/v1/solo/sessions/{session_id}/"
    assert response.headers["ETag"] == '"0"'


def test_a_state_whose_stored_form_outgrows_the_limit_is_422_though_its_body_fits(client):
    """Numbers are stored canonically: `1E2` (3 bytes) as `100.0` (5)."""
    numbers = ",".join(["1E2"] * 400_000)
    body = f'{{"state": {{"числа": [{numbers}]}}}}'.encode()
    assert len(body) <= limits.STATE_SIZE_LIMIT
    response = client.post(
        "/sessions/",
        content=body,
        headers={**client.auth("олена"), "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json() == error_body(
        response, domain.StateTooLarge, limit=limits.STATE_SIZE_LIMIT
    )
    listed = client.get("/sessions/", headers=client.auth("олена"))
    assert listed.json() == {"items": [], "next_cursor": None}


def test_create_without_a_body_starts_from_an_empty_state(client):
    response = client.post("/sessions/", headers=client.auth("олена"))
    assert response.status_code == 201
    assert response.json()["state"] == {}


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"state": ["не", "обʼєкт"]}, "state"), ({"state": {}, "зайве": 1}, "body")],
)
def test_create_refuses_bodies_outside_the_schema(client, payload, field):
    response = client.post("/sessions/", json=payload, headers=client.auth("олена"))
    assert response.status_code == 400
    body = response.json()
    assert body == error_body(
        response, refusals.InvalidRequest, message=body["message"], field=field
    )
    assert body["message"].startswith(f"{field}: ")


@pytest.mark.parametrize("raw", [b'{"state": {', b'{"state": NaN}', b"\xff\xfe{}", b"[1e999]"])
def test_create_refuses_what_is_not_strict_json(client, raw):
    headers = {**client.auth("олена"), "Content-Type": "application/json"}
    response = client.post("/sessions/", content=raw, headers=headers)
    assert response.status_code == 400
    assert response.json() == error_body(response, refusals.InvalidJson)


def test_create_refuses_a_media_type_it_does_not_take(client):
    headers = {**client.auth("олена"), "Content-Type": "text/csv"}
    response = client.post("/sessions/", content=b"a,b", headers=headers)
    assert response.status_code == 415
    assert response.json() == error_body(
        response, refusals.UnsupportedMediaType, media_type="text/csv"
    )


def _token(claims: dict, secret: str = TEST_JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, secret, algorithm=algorithm)


def _in(seconds: int) -> int:
    return int(dt.datetime.now(dt.UTC).timestamp()) + seconds


MALFORMED = "The token is malformed or its signature is invalid."
CHALLENGE = 'Bearer realm="solo"'
REFUSED = 'Bearer realm="solo", error="invalid_token"'


@pytest.mark.parametrize(
    ("authorization", "message", "reason", "challenge"),
    [
        (None, usual_message(refusals.Unauthorized), "missing", CHALLENGE),
        ("Basic b2xlbmE6cGFzcw==", usual_message(refusals.Unauthorized), "missing", CHALLENGE),
        ("Bearer не-токен", MALFORMED, "invalid", REFUSED),
        (
            "Bearer " + _token({"sub": "олена", "exp": _in(-10)}),
            "The token has expired.",
            "expired",
            REFUSED,
        ),
        (
            "Bearer " + _token({"sub": "олена", "exp": _in(3600)}, secret="x" * 40),
            MALFORMED,
            "invalid",
            REFUSED,
        ),
        (
            "Bearer " + _token({"sub": "олена", "exp": _in(3600)}, secret="", algorithm="none"),
            "The token's signing algorithm is not accepted.",
            "invalid",
            REFUSED,
        ),
        ("Bearer " + _token({"exp": _in(3600)}), MALFORMED, "invalid", REFUSED),
        (
            "Bearer " + _token({"sub": "", "exp": _in(3600)}),
            "The token's subject is not a user id.",
            "invalid",
            REFUSED,
        ),
    ],
    ids=["missing", "basic", "garbage", "expired", "forged", "alg-none", "no-sub", "empty-sub"],
)
def test_every_bad_credential_is_401_saying_why_with_a_bearer_challenge(
    client, authorization, message, reason, challenge
):
    headers = {"Authorization": authorization.encode()} if authorization else {}
    response = client.get("/sessions/", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == challenge
    assert response.json() == {
        **error_body(response, refusals.Unauthorized),
        "message": message,
        "reason": reason,
    }


def test_get_answers_the_session_with_its_etag(client):
    session_id, created = create(client)
    response = client.get(f"/sessions/{session_id}/", headers=client.auth("олена"))
    assert response.status_code == 200
    body = response.json()
    assert body == {
        **created.json(),
        "beacon_url": body["beacon_url"],
        "events_url": body["events_url"],
    }
    assert body["beacon_url"].startswith(
        f"{ORIGIN}/api/v1/solo/sessions/{session_id}/beacon/?token="
    )
    assert body["events_url"].startswith(
        f"{ORIGIN}/api/v1/solo/sessions/{session_id}/events/?token="
    )
    assert response.headers["ETag"] == '"0"'
    assert response.headers["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [('"0"', 304), ('W/"0"', 304), ('"3", "0"', 304), ("*", 304), ('"1"', 200), ("сміття", 200)],
)
def test_get_honours_if_none_match(client, if_none_match, status):
    session_id, _ = create(client)
    headers = {**client.auth("олена"), "If-None-Match": if_none_match.encode()}
    response = client.get(f"/sessions/{session_id}/", headers=headers)
    assert response.status_code == status
    assert response.headers["ETag"] == '"0"'
    if status == 304:
        assert response.content == b""


def test_another_users_session_is_indistinguishable_from_a_missing_one(client):
    session_id, _ = create(client, user="олена")
    stranger = client.get(f"/sessions/{session_id}/", headers=client.auth("тарас"))
    missing = client.get(f"/sessions/{uuid.uuid4()}/", headers=client.auth("тарас"))
    for response in (stranger, missing):
        assert response.status_code == 404
        assert response.json() == error_body(response, domain.NotFound)
        assert "ETag" not in response.headers


def test_a_malformed_session_id_is_invalid_request(client):
    response = client.get("/sessions/не-uuid/", headers=client.auth("олена"))
    assert response.status_code == 400
    body = response.json()
    assert body == error_body(
        response, refusals.InvalidRequest, message=body["message"], field="session_id"
    )


def test_list_shows_only_the_callers_sessions_newest_first_without_state(client):
    first, _ = create(client, user="олена")
    second, _ = create(client, user="олена")
    create(client, user="тарас")
    response = client.get("/sessions/", headers=client.auth("олена"))
    assert response.status_code == 200
    body = response.json()
    assert [item["id"] for item in body["items"]] == [second, first]
    assert body["next_cursor"] is None
    assert all(set(item) == {"id", "rev", "created_at", "updated_at"} for item in body["items"])


def test_list_pages_with_an_opaque_cursor(client):
    ids = [create(client)[0] for _ in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get("/sessions/", params=params, headers=client.auth("олена"))
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


def forged_cursor(created_at: str, last_id: str = "5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10") -> str:
    """A cursor in the shape this server issues, holding what it never would."""
    raw = json.dumps([created_at, last_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "сміття"}, "cursor"),
        ({"cursor": "eyJ4Ijoge319"}, "cursor"),
        ({"cursor": forged_cursor("0001-01-01T00:00:00+14:00")}, "cursor"),
        ({"cursor": forged_cursor("9999-12-31T23:59:59-12:00")}, "cursor"),
        ({"cursor": forged_cursor("2026-11-26T09:00:00")}, "cursor"),
        ({"cursor": forged_cursor("2026-11-26T09:00:00Z", "не-uuid")}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"сторінка": 2}, "сторінка"),
    ],
)
def test_list_refuses_bad_query_parameters(client, params, field):
    response = client.get("/sessions/", params=params, headers=client.auth("олена"))
    assert response.status_code == 400
    body = response.json()
    assert body == error_body(
        response, refusals.InvalidRequest, message=body["message"], field=field
    )


def test_delete_with_the_current_etag_removes_the_session(client):
    session_id, _ = create(client)
    headers = {**client.auth("олена"), "If-Match": '"0"'}
    response = client.delete(f"/sessions/{session_id}/", headers=headers)
    assert response.status_code == 204
    assert response.content == b""
    assert "Deprecation" not in response.headers
    gone = client.get(f"/sessions/{session_id}/", headers=client.auth("олена"))
    assert gone.status_code == 404


def test_delete_accepts_the_legacy_x_rev_and_says_it_is_deprecated(client):
    session_id, _ = create(client)
    headers = {**client.auth("олена"), "X-Rev": "0"}
    response = client.delete(f"/sessions/{session_id}/", headers=headers)
    assert response.status_code == 204
    assert response.headers["Deprecation"] == "true"


@pytest.mark.parametrize(("if_match", "reason"), [(None, "missing"), ('"4"', "mismatch")])
def test_delete_is_conditional(client, if_match, reason):
    session_id, _ = create(client)
    headers = {**client.auth("олена"), **({"If-Match": if_match} if if_match else {})}
    response = client.delete(f"/sessions/{session_id}/", headers=headers)
    assert response.status_code == 412
    assert response.json() == precondition_body(response, reason)
    assert response.headers["ETag"] == '"0"'
    still = client.get(f"/sessions/{session_id}/", headers=client.auth("олена"))
    assert still.status_code == 200


def test_delete_of_a_strangers_session_is_404_even_without_if_match(client):
    session_id, _ = create(client, user="олена")
    response = client.delete(f"/sessions/{session_id}/", headers=client.auth("тарас"))
    assert response.status_code == 404
    assert response.json() == error_body(response, domain.NotFound)
