"""Idempotency-Key on POST snapshot: replay, reuse, in progress, errors not kept, TTL."""

import concurrent.futures
import dataclasses
import datetime as dt
import threading

import pytest

from solo import limits
from solo.domain import errors as domain
from solo.http import refusals
from solo.storage.factory import open_blob_store
from tests.support.bodies import error_body
from tests.support.sessions import create_session

KEY = "ключ"  # non-ASCII is not a visible ASCII key: used only where refusal is the point
STATE = {"крок": 0}


@pytest.fixture
def clocked(settings, clock, make_client):
    return make_client(settings, clock)


@pytest.fixture
def client(clocked):
    return clocked[0]


@pytest.fixture
def deps(clocked):
    return clocked[1]


def snapshot(client, session_id, key, user="олена"):
    headers = {**client.auth(user), "Idempotency-Key": key}
    return client.post(f"/sessions/{session_id}/snapshot/", headers=headers)


def advance(client, session_id):
    response = client.patch(
        f"/sessions/{session_id}/diff/",
        json={"ops": [{"op": "replace", "path": "/крок", "value": 1}]},
        headers={**client.auth("олена"), "If-Match": "*"},
    )
    assert response.status_code == 200


def test_a_repeat_replays_the_first_answer_even_after_the_state_changed(client):
    session_id = create_session(client, STATE)
    first = snapshot(client, session_id, "save-1")
    advance(client, session_id)
    repeat = snapshot(client, session_id, "save-1")
    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.json() == first.json()
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    fresh = snapshot(client, session_id, "save-2")
    assert fresh.json()["rev"] == 1


def test_the_same_key_on_another_session_is_422(client):
    first, second = create_session(client, STATE), create_session(client, STATE)
    assert snapshot(client, first, "save-1").status_code == 201
    response = snapshot(client, second, "save-1")
    assert response.status_code == 422
    assert response.json() == error_body(response, domain.IdempotencyKeyReused)


def test_keys_belong_to_their_user(client):
    mine, theirs = create_session(client, STATE, "олена"), create_session(client, STATE, "тарас")
    assert snapshot(client, mine, "save-1", user="олена").status_code == 201
    response = snapshot(client, theirs, "save-1", user="тарас")
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response.headers


def test_a_repeat_while_the_first_is_running_is_409(settings, clock, make_client):
    store = open_blob_store(settings, clock)
    writing, release = threading.Event(), threading.Event()
    real_put = store.put

    def slow_put(key, data):
        writing.set()
        release.wait(10)
        real_put(key, data)

    store.put = slow_put
    client, _ = make_client(settings, clock, blob_store=store)
    session_id = create_session(client, STATE)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first = pool.submit(snapshot, client, session_id, "save-1")
        assert writing.wait(10)
        response = snapshot(client, session_id, "save-1")
        release.set()
        assert first.result().status_code == 201
    assert response.status_code == 409
    assert response.headers["Retry-After"] == str(limits.IDEMPOTENCY_RETRY_AFTER_SECONDS)
    assert response.json() == error_body(response, domain.IdempotencyInProgress)


def test_errors_are_not_kept_so_the_key_can_be_retried(settings, clock, make_client, tmp_path):
    blocker = tmp_path / "не-тека"
    blocker.write_text("файл")
    broken = dataclasses.replace(settings, storage_url=f"file://{blocker}/snapshots")
    client, _ = make_client(broken, clock)
    session_id = create_session(client, STATE)
    failed = snapshot(client, session_id, "save-1")
    blocker.unlink()
    retried = snapshot(client, session_id, "save-1")
    assert failed.status_code == 503
    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried.headers


def test_a_key_expires_after_its_ttl(client, clock):
    session_id = create_session(client, STATE)
    first = snapshot(client, session_id, "save-1")
    advance(client, session_id)
    clock.now += dt.timedelta(seconds=limits.IDEMPOTENCY_TTL_SECONDS - 1)
    assert snapshot(client, session_id, "save-1").headers.get("Idempotent-Replayed") == "true"
    clock.now += dt.timedelta(seconds=1)
    after = snapshot(client, session_id, "save-1")
    assert after.status_code == 201
    assert "Idempotent-Replayed" not in after.headers
    assert (first.json()["rev"], after.json()["rev"]) == (0, 1)


def test_expired_keys_are_purged(client, deps, clock):
    session_id = create_session(client, STATE)
    saved_at = clock.now
    snapshot(client, session_id, "save-1")
    clock.now += dt.timedelta(seconds=limits.IDEMPOTENCY_TTL_SECONDS)
    snapshot(client, session_id, "save-2")
    with deps.database.unit_of_work() as uow:
        # Gone, not merely expired: it is not found even as of when it was saved.
        assert uow.idempotency.get("олена", "save-1", now=saved_at) is None
        assert uow.idempotency.get("олена", "save-2", now=clock.now) is not None


@pytest.mark.parametrize("key", ["", "з пробілом", "x" * 256, KEY])
def test_a_malformed_key_is_400(client, key):
    session_id = create_session(client, STATE)
    response = client.post(
        f"/sessions/{session_id}/snapshot/",
        headers={**client.auth("олена"), "Idempotency-Key": key.encode()},
    )
    assert response.status_code == 400
    body = response.json()
    assert body == error_body(
        response, refusals.InvalidRequest, message=body["message"], field="Idempotency-Key"
    )


def test_any_spelling_of_the_session_id_is_the_same_request(client):
    session_id = create_session(client, STATE)
    first = snapshot(client, session_id.upper(), "save-1")
    repeat = snapshot(client, session_id, "save-1")
    assert (first.status_code, repeat.status_code) == (201, 201)
    assert repeat.json() == first.json()
    assert repeat.headers["Idempotent-Replayed"] == "true"
