"""Idempotency-Key on every write: a retry replays the first answer and applies nothing
again, even with a stale If-Match; another request with the key is refused; failures are
not kept; a key goes with its change."""

import dataclasses
import datetime as dt

import pytest

from solo import limits
from solo.domain import errors as domain
from tests.support.bodies import error_body, precondition_body

STATE = {"назва": "Чернетка", "блоки": ["перший"]}
APPEND = [{"op": "add", "path": "/блоки/-", "value": "ще один"}]


@pytest.fixture
def clocked(settings, clock, make_client):
    return make_client(settings, clock)


@pytest.fixture
def client(clocked):
    return clocked[0]


def create(client, **headers):
    return client.post(
        "/sessions/", json={"state": STATE}, headers={**client.auth("олена"), **headers}
    )


def diff(client, session_id, ops, key=None, if_match="*", **headers):
    keyed = {"Idempotency-Key": key} if key else {}
    return client.patch(
        f"/sessions/{session_id}/diff/",
        json={"ops": ops},
        headers={**client.auth("олена"), "If-Match": if_match, **keyed, **headers},
    )


def state_of(client, session_id):
    return client.get(f"/sessions/{session_id}/", headers=client.auth("олена")).json()["state"]


def test_a_retried_diff_replays_its_answer_and_applies_nothing_again(client, clock):
    session_id = create(client).json()["id"]
    first = diff(client, session_id, APPEND, key="klyuch-1", if_match='"0"')
    clock.now = clock.now.replace(minute=5)
    again = diff(client, session_id, APPEND, key="klyuch-1", if_match='"0"')
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json() == again.json() == {"rev": 1, "updated_at": "2026-11-26T09:00:00Z"}
    assert (first.headers["ETag"], again.headers["ETag"]) == ('"1"', '"1"')
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert state_of(client, session_id)["блоки"] == ["перший", "ще один"]


def test_a_retry_with_if_match_any_is_applied_once_too(client):
    session_id = create(client).json()["id"]
    for _ in range(3):
        assert diff(client, session_id, APPEND, key="klyuch-1").status_code == 200
    assert state_of(client, session_id)["блоки"] == ["перший", "ще один"]


@pytest.mark.parametrize(
    "other",
    [
        {"ops": [{"op": "add", "path": "/блоки/-", "value": "інше"}]},
        {"if_match": '"0"'},
        {"X-Rev": "0", "if_match": None},
    ],
    ids=["body", "precondition", "legacy-precondition"],
)
def test_the_key_with_another_request_is_refused(client, other):
    session_id = create(client).json()["id"]
    diff(client, session_id, APPEND, key="klyuch-1")
    other = dict(other)
    ops = other.pop("ops", APPEND)
    if_match = other.pop("if_match", "*")
    headers = {"If-Match": if_match} if if_match else {}
    response = client.patch(
        f"/sessions/{session_id}/diff/",
        json={"ops": ops},
        headers={**client.auth("олена"), "Idempotency-Key": "klyuch-1", **headers, **other},
    )
    assert response.status_code == 422
    assert response.json() == error_body(response, domain.IdempotencyKeyReused)
    assert state_of(client, session_id)["блоки"] == ["перший", "ще один"]


def test_the_key_on_another_session_or_operation_is_refused(client):
    first, second = (create(client).json()["id"] for _ in range(2))
    diff(client, first, APPEND, key="klyuch-1")
    on_another_session = diff(client, second, APPEND, key="klyuch-1")
    on_another_operation = client.post(
        f"/sessions/{first}/save-stream/",
        json={"інше": True},
        headers={**client.auth("олена"), "If-Match": "*", "Idempotency-Key": "klyuch-1"},
    )
    for response in (on_another_session, on_another_operation):
        assert response.status_code == 422
        assert response.json() == error_body(response, domain.IdempotencyKeyReused)
    assert state_of(client, second) == STATE


def test_keys_are_the_users_own(client):
    session_id = create(client).json()["id"]
    diff(client, session_id, APPEND, key="spilnyi")
    theirs = client.post(
        "/sessions/",
        json={"state": {}},
        headers={**client.auth("тарас"), "Idempotency-Key": "spilnyi"},
    )
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers


def test_a_failed_write_keeps_no_key_so_it_can_be_retried(client):
    session_id = create(client).json()["id"]
    refused = diff(client, session_id, [{"op": "remove", "path": "/немає"}], key="klyuch-1")
    stale = diff(client, session_id, APPEND, key="klyuch-2", if_match='"7"')
    assert (refused.status_code, stale.status_code) == (422, 412)
    assert stale.json() == precondition_body(stale, "mismatch")
    fixed = diff(client, session_id, APPEND, key="klyuch-1")
    retried = diff(client, session_id, APPEND, key="klyuch-2", if_match='"1"')
    assert (fixed.status_code, fixed.json()["rev"]) == (200, 1)
    assert (retried.status_code, retried.json()["rev"]) == (200, 2)


def test_a_retried_create_replays_the_same_session(client):
    first = create(client, **{"Idempotency-Key": "nova-sesiia"})
    diff(client, first.json()["id"], APPEND)
    again = create(client, **{"Idempotency-Key": "nova-sesiia"})
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (again.headers["Location"], again.headers["ETag"]) == (
        first.headers["Location"],
        '"0"',
    )
    replayed, original = again.json(), first.json()
    # The same session as it was created; its scoped tokens are minted for this answer.
    for body in (replayed, original):
        body.pop("beacon_url"), body.pop("events_url")
    assert replayed == original
    listed = client.get("/sessions/", headers=client.auth("олена")).json()["items"]
    assert [item["id"] for item in listed] == [original["id"]]


def test_a_retried_save_stream_and_restore_replay_their_answers(client):
    session_id = create(client).json()["id"]
    headers = {**client.auth("олена"), "If-Match": '"0"', "Idempotency-Key": "povnyi"}
    saved = [
        client.post(f"/sessions/{session_id}/save-stream/", json={"новий": 1}, headers=headers)
        for _ in range(2)
    ]
    restore = {**client.auth("олена"), "If-Match": '"1"', "Idempotency-Key": "nazad"}
    restored = [
        client.post(f"/sessions/{session_id}/restore/", json={"rev": 0}, headers=restore)
        for _ in range(2)
    ]
    assert [r.status_code for r in saved + restored] == [200] * 4
    assert saved[0].json() == saved[1].json() and saved[1].headers["Idempotent-Replayed"] == "true"
    assert restored[0].json() == restored[1].json()
    assert restored[1].json() == {
        "rev": 2,
        "updated_at": "2026-11-26T09:00:00Z",
        "restored_from": 0,
    }
    assert restored[1].headers["Idempotent-Replayed"] == "true"
    assert state_of(client, session_id) == STATE


def test_a_retried_delete_replays_its_204_though_the_session_is_gone(client, clock):
    session_id = create(client).json()["id"]
    headers = {**client.auth("олена"), "If-Match": '"0"', "Idempotency-Key": "prybraty"}
    first = client.delete(f"/sessions/{session_id}/", headers=headers)
    again = client.delete(f"/sessions/{session_id}/", headers=headers)
    assert (first.status_code, again.status_code) == (204, 204)
    assert again.headers["Idempotent-Replayed"] == "true"
    clock.now += dt.timedelta(seconds=limits.IDEMPOTENCY_DELETE_TTL_SECONDS + 1)
    forgotten = client.delete(f"/sessions/{session_id}/", headers=headers)
    assert forgotten.status_code == 404


def test_an_expired_key_is_free_for_a_new_write_before_it_is_purged(client, clock):
    """A delete's key, expired but still in its table, takes no other write down: the
    write takes its row over."""
    gone = create(client).json()["id"]
    headers = {**client.auth("олена"), "If-Match": "*", "Idempotency-Key": "povtor"}
    assert client.delete(f"/sessions/{gone}/", headers=headers).status_code == 204
    clock.now += dt.timedelta(seconds=limits.IDEMPOTENCY_DELETE_TTL_SECONDS + 1)
    session_id = create(client).json()["id"]
    first = diff(client, session_id, APPEND, key="povtor")
    again = diff(client, session_id, APPEND, key="povtor")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert state_of(client, session_id)["блоки"] == ["перший", "ще один"]


def test_a_key_is_forgotten_with_its_change_and_a_chained_retry_is_then_a_safe_412(
    settings, clock, make_client
):
    client, _ = make_client(dataclasses.replace(settings, changes_kept=2), clock)
    session_id = create(client).json()["id"]
    assert diff(client, session_id, APPEND, key="davnii", if_match='"0"').status_code == 200
    for rev in range(1, 6):
        # Each whole state is a checkpoint, where the log is cut.
        client.post(
            f"/sessions/{session_id}/save-stream/",
            json={"крок": rev},
            headers={**client.auth("олена"), "If-Match": f'"{rev}"'},
        )
    retried = diff(client, session_id, APPEND, key="davnii", if_match='"0"')
    assert retried.status_code == 412
    assert retried.json() == precondition_body(retried, "mismatch")
