"""Beacons are telemetry only, and their token opens nothing but their own beacon."""

import dataclasses
import datetime as dt
import json
import uuid
from unittest.mock import ANY
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from solo.db.models import SessionRow, TelemetryEventRow
from solo.domain import errors as domain
from solo.http import refusals
from solo.security import CredentialRefused
from solo.security.bearer import Caller
from solo.security.session_tokens import SessionTokens
from solo.web.app import create_app
from tests.support.bodies import error_body
from tests.support.clients import SpecCheckedClient
from tests.support.sessions import create_session
from tests.support.tokens import other_spellings, session_forms, shows_any, user_forms

STATE = {"документ": "Лист", "абзаци": ["перший"]}
EVENT = {"подія": "visibilitychange", "приховано": True}


def beacon_token(client, session_id, user="олена") -> str:
    response = client.get(f"/sessions/{session_id}/", headers=client.auth(user))
    return parse_qs(urlsplit(response.json()["beacon_url"]).query)["token"][0]


def send_beacon(client, session_id, payload=EVENT, token=None, headers=None, raw=None):
    return client.post(
        f"/sessions/{session_id}/beacon/",
        params={"token": token} if token else None,
        content=raw if raw is not None else json.dumps(payload).encode(),
        headers={"Content-Type": "text/plain;charset=UTF-8", **(headers or {})},
    )


def telemetry(deps, session_id):
    """The session's events as (owner, payload), read through the models' column types."""
    with deps.database.engine.connect() as conn:
        events = conn.execute(
            sa.select(TelemetryEventRow.owner, TelemetryEventRow.payload)
            .where(TelemetryEventRow.session_id == uuid.UUID(session_id))
            .order_by(TelemetryEventRow.id)
        ).all()
        last_seen = conn.execute(sa.select(SessionRow.last_seen_at)).scalar_one()
    return [tuple(event) for event in events], last_seen


def test_a_beacon_with_its_token_records_telemetry_and_changes_nothing(client, deps):
    session_id = create_session(client, STATE)
    before = client.get(f"/sessions/{session_id}/", headers=client.auth("олена"))
    response = send_beacon(client, session_id, token=beacon_token(client, session_id))
    assert response.status_code == 204
    assert response.content == b""
    after = client.get(f"/sessions/{session_id}/", headers=client.auth("олена"))
    assert after.headers["ETag"] == before.headers["ETag"] == '"0"'
    events, last_seen = telemetry(deps, session_id)
    assert events == [("олена", EVENT)]
    assert last_seen is not None
    seen = after.json()["last_seen_at"]
    assert before.json()["last_seen_at"] is None
    assert after.json() == {
        **before.json(),
        "last_seen_at": seen,
        "beacon_url": ANY,
        "events_url": ANY,
    }
    age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(seen)
    assert dt.timedelta(0) <= age < dt.timedelta(minutes=1)


def test_a_bearer_header_works_too_and_json_blobs_are_accepted(client, deps):
    session_id = create_session(client, STATE)
    response = send_beacon(
        client, session_id, headers={**client.auth("олена"), "Content-Type": "application/json"}
    )
    assert response.status_code == 204
    assert telemetry(deps, session_id)[0] == [("олена", EVENT)]


def test_a_beacon_that_is_not_json_is_400(client):
    session_id = create_session(client, STATE)
    token = beacon_token(client, session_id)
    response = send_beacon(client, session_id, token=token, raw="не json".encode())
    assert response.status_code == 400
    assert response.json() == error_body(response, refusals.InvalidJson)


def test_the_token_does_not_open_another_sessions_beacon(client):
    mine, other = create_session(client, STATE), create_session(client, STATE)
    response = send_beacon(client, other, token=beacon_token(client, mine))
    assert response.status_code == 403
    assert response.json() == error_body(
        response, refusals.Forbidden, message="This beacon token belongs to another session."
    )


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "diff/", {"ops": []}),
        ("POST", "save-stream/", {}),
        ("DELETE", "", None),
    ],
)
def test_the_token_opens_nothing_but_the_beacon(client, method, suffix, body):
    session_id = create_session(client, STATE)
    token = beacon_token(client, session_id)
    response = client.request(
        method,
        f"/sessions/{session_id}/{suffix}",
        params={"token": token},
        json=body,
        headers={"If-Match": "*"},
    )
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_the_token_is_no_bearer_token(client):
    session_id = create_session(client, STATE)
    token = beacon_token(client, session_id)
    response = client.get(f"/sessions/{session_id}/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_an_expired_or_tampered_token_is_401(client, deps):
    session_id = create_session(client, STATE)
    tokens = SessionTokens(deps.settings.effective_signing_key, "beacon")
    expired = tokens.mint(
        uuid.UUID(session_id), Caller("олена", int(dt.datetime.now(dt.UTC).timestamp()) - 1)
    )
    good = beacon_token(client, session_id)
    forged = SessionTokens(b"other key", "beacon").mint(
        uuid.UUID(session_id), Caller("олена", 2**40)
    )
    malformed = CredentialRefused("The beacon token is malformed or forged.", reason="invalid")
    refusals_by_token = {
        expired: CredentialRefused("The beacon token has expired.", reason="expired"),
        good[:-2] + ("AA" if good[-2:] != "AA" else "BB"): malformed,
        forged: malformed,
        "сміття": malformed,
    }
    for token, refusal in refusals_by_token.items():
        response = send_beacon(client, session_id, token=token)
        assert response.status_code == 401, token
        assert response.json() == error_body(response, refusal, reason=refusal.reason)


def test_a_token_spelled_otherwise_is_401(client):
    session_id = create_session(client, STATE)
    good = beacon_token(client, session_id)
    for spelling in other_spellings(good):
        response = send_beacon(client, session_id, token=spelling)
        assert response.status_code == 401, spelling
        assert response.json() == error_body(
            response,
            CredentialRefused("The beacon token is malformed or forged.", reason="invalid"),
            reason="invalid",
        )
    assert send_beacon(client, session_id, token=good).status_code == 204


def test_the_session_documents_tokens_show_neither_user_nor_session(client):
    session_id = create_session(client, STATE, user="олена.коваленко")
    document = client.get(f"/sessions/{session_id}/", headers=client.auth("олена.коваленко"))
    ids = user_forms("олена.коваленко") + session_forms(uuid.UUID(session_id))
    for name in ("beacon_url", "events_url"):
        token = parse_qs(urlsplit(document.json()[name]).query)["token"][0]
        assert not shows_any(token, ids), name


def test_a_strangers_session_is_404(client):
    session_id = create_session(client, STATE, user="олена")
    response = send_beacon(client, session_id, headers=client.auth("тарас"))
    assert response.status_code == 404
    assert response.json() == error_body(response, domain.NotFound)


def test_telemetry_keeps_only_the_newest_events(settings, deps):
    kept = dataclasses.replace(settings, beacon_events_kept=3)
    client = SpecCheckedClient(create_app(kept, dataclasses.replace(deps, settings=kept)), kept)
    session_id = create_session(client, STATE)
    for n in range(5):
        assert (
            send_beacon(client, session_id, {"n": n}, headers=client.auth("олена")).status_code
            == 204
        )
    events, _ = telemetry(deps, session_id)
    assert events == [("олена", {"n": 2}), ("олена", {"n": 3}), ("олена", {"n": 4})]


def test_deleting_the_session_deletes_its_telemetry(client, deps):
    session_id = create_session(client, STATE)
    send_beacon(client, session_id, headers=client.auth("олена"))
    deleted = client.delete(
        f"/sessions/{session_id}/", headers={**client.auth("олена"), "If-Match": "*"}
    )
    assert deleted.status_code == 204
    with deps.database.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM telemetry_events")).scalar_one() == 0


@pytest.mark.parametrize("payload", [None, ["подія", 1], "рядок", 0])
def test_any_json_value_is_a_beacon(client, deps, payload):
    session_id = create_session(client, STATE)
    response = send_beacon(
        client,
        session_id,
        payload,
        headers={**client.auth("олена"), "Content-Type": "application/json"},
    )
    assert response.status_code == 204
    assert telemetry(deps, session_id)[0] == [("олена", payload)]


def test_a_beacon_token_opens_its_session_however_its_id_is_spelled(client, deps):
    session_id = create_session(client, STATE)
    token = beacon_token(client, session_id)
    response = send_beacon(client, session_id.upper(), token=token)
    assert response.status_code == 204
    assert telemetry(deps, session_id)[0] == [("олена", EVENT)]
