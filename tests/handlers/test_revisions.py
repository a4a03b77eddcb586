"""The change feed and restore, on SQLite and PostgreSQL, with a fake clock."""

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from solo import limits
from solo.db.models import ChangeRow
from solo.domain import errors as domain
from solo.http import refusals
from tests.support.bodies import error_body, precondition_body
from tests.support.sessions import create_session

STATE = {"назва": "Чернетка", "абзаци": ["перший"]}
WHOLE = {"зовсім": "нове"}


@pytest.fixture
def clocked(settings, clock, make_client):
    return make_client(dataclasses.replace(settings, changes_kept=3), clock)


@pytest.fixture
def client(clocked):
    return clocked[0]


def diff(client, session_id, ops, if_match="*"):
    return client.patch(
        f"/sessions/{session_id}/diff/",
        json={"ops": ops},
        headers={**client.auth("олена"), "If-Match": if_match},
    )


def save(client, session_id, state):
    return client.post(
        f"/sessions/{session_id}/save-stream/",
        json=state,
        headers={**client.auth("олена"), "If-Match": "*"},
    )


def changes(client, session_id, since, user="олена", **params):
    return client.get(
        f"/sessions/{session_id}/changes/",
        params={"since": since, **params},
        headers=client.auth(user),
    )


def restore(client, session_id, rev, **headers):
    return client.post(
        f"/sessions/{session_id}/restore/",
        json={"rev": rev},
        headers={**client.auth("олена"), **headers},
    )


RENAME = [{"op": "replace", "path": "/назва", "value": "Остаточна"}]
APPEND = [{"op": "add", "path": "/абзаци/-", "value": "другий"}]


def test_the_feed_lists_each_change_as_applied_and_whole_states_as_one_replace(client, clock):
    session_id = create_session(client, STATE)
    clock.now += dt.timedelta(seconds=1)
    first_at = clock.stamp
    diff(client, session_id, RENAME)
    clock.now += dt.timedelta(seconds=1)
    save(client, session_id, WHOLE)
    response = changes(client, session_id, since=0)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.json() == {
        "since": 0,
        "rev": 2,
        "changes": [
            {"rev": 1, "at": first_at, "ops": RENAME},
            {"rev": 2, "at": clock.stamp, "ops": [{"op": "replace", "path": "", "value": WHOLE}]},
        ],
        "more": False,
    }


def test_since_the_current_rev_is_an_empty_page_and_limit_pages(client):
    session_id = create_session(client, STATE)
    for n in range(3):
        diff(client, session_id, [{"op": "add", "path": f"/крок{n}", "value": n}])
    assert changes(client, session_id, since=3).json() == {
        "since": 3,
        "rev": 3,
        "changes": [],
        "more": False,
    }
    page = changes(client, session_id, since=0, limit=2).json()
    assert ([c["rev"] for c in page["changes"]], page["more"]) == ([1, 2], True)
    rest = changes(client, session_id, since=2, limit=2).json()
    assert ([c["rev"] for c in rest["changes"]], rest["more"]) == ([3], False)


def test_since_past_the_current_rev_is_409_ahead_of_server_and_a_strangers_session_404(client):
    session_id = create_session(client, STATE)
    diff(client, session_id, [{"op": "add", "path": "/крок", "value": "один"}])
    ahead = changes(client, session_id, since=5)
    assert (ahead.status_code, ahead.headers["ETag"]) == (409, '"1"')
    assert ahead.json() == error_body(ahead, domain.AheadOfServer, rev=1)
    stranger = changes(client, session_id, since=0, user="тарас")
    assert (stranger.status_code, stranger.json()) == (404, error_body(stranger, domain.NotFound))


def test_since_older_than_the_kept_log_is_410_naming_the_oldest_since(client, monkeypatch):
    monkeypatch.setattr(limits, "CHECKPOINT_MAX_CHANGES", 2)
    session_id = create_session(client, STATE)
    for n in range(8):
        diff(client, session_id, [{"op": "add", "path": f"/крок{n}", "value": n}])
    gone = changes(client, session_id, since=0)
    assert gone.status_code == 410
    oldest = gone.json()["oldest_rev"]
    assert gone.json() == error_body(gone, domain.ChangesCompacted(oldest), oldest_rev=oldest)
    assert 0 < oldest <= 8 - 3
    kept = changes(client, session_id, since=oldest).json()
    assert [c["rev"] for c in kept["changes"]] == list(range(oldest + 1, 9))


def test_restore_makes_an_old_state_a_new_revision_in_the_feed(client, clock):
    session_id = create_session(client, STATE)
    diff(client, session_id, RENAME)
    diff(client, session_id, APPEND)
    clock.now += dt.timedelta(minutes=1)
    response = restore(client, session_id, 0, **{"If-Match": '"2"'})
    assert response.status_code == 200
    assert response.json() == {"rev": 3, "updated_at": clock.stamp, "restored_from": 0}
    assert response.headers["ETag"] == '"3"'
    assert "Deprecation" not in response.headers
    session = client.get(f"/sessions/{session_id}/", headers=client.auth("олена")).json()
    assert (session["rev"], session["state"]) == (3, STATE)
    feed = changes(client, session_id, since=2).json()
    assert feed["changes"] == [
        {"rev": 3, "at": clock.stamp, "ops": [{"op": "replace", "path": "", "value": STATE}]}
    ]


def test_restore_is_locked_like_every_write_before_it_looks_for_the_rev(client):
    session_id = create_session(client, STATE)
    diff(client, session_id, RENAME)
    stale = restore(client, session_id, 99, **{"If-Match": '"0"'})
    assert (stale.status_code, stale.json()) == (412, precondition_body(stale, "mismatch"))
    legacy = restore(client, session_id, 99, **{"X-Rev": "0"})
    assert (legacy.status_code, legacy.json()) == (
        409,
        error_body(legacy, domain.RevMismatch, server_rev=1),
    )
    missing = restore(client, session_id, 0)
    assert (missing.status_code, missing.json()) == (412, precondition_body(missing, "missing"))
    accepted = restore(client, session_id, 0, **{"X-Rev": "1"})
    assert (accepted.status_code, accepted.headers["Deprecation"]) == (200, "true")


def test_a_rev_neither_kept_nor_snapshotted_is_422_and_a_snapshot_restores_it(client, monkeypatch):
    monkeypatch.setattr(limits, "CHECKPOINT_MAX_CHANGES", 2)
    session_id = create_session(client, STATE)
    diff(client, session_id, RENAME)
    snapshot = client.post(f"/sessions/{session_id}/snapshot/", headers=client.auth("олена"))
    assert snapshot.status_code == 201
    for n in range(8):
        diff(client, session_id, [{"op": "add", "path": f"/крок{n}", "value": n}])
    future = restore(client, session_id, 50, **{"If-Match": "*"})
    assert future.status_code == 422
    assert future.json() == error_body(future, domain.RevisionUnavailable(50), rev=50)
    compacted = restore(client, session_id, 0, **{"If-Match": "*"})
    assert compacted.json() == error_body(compacted, domain.RevisionUnavailable(0), rev=0)
    from_snapshot = restore(client, session_id, 1, **{"If-Match": "*"})
    assert from_snapshot.json()["restored_from"] == 1
    session = client.get(f"/sessions/{session_id}/", headers=client.auth("олена")).json()
    assert session["state"] == {**STATE, "назва": "Остаточна"}


def test_a_restore_body_over_its_limit_is_413(client):
    session_id = create_session(client, STATE)
    response = client.post(
        f"/sessions/{session_id}/restore/",
        content=b'{"rev": 0, "x": "' + b"a" * limits.RESTORE_BODY_LIMIT + b'"}',
        headers={**client.auth("олена"), "Content-Type": "application/json", "If-Match": "*"},
    )
    assert response.status_code == 413
    assert response.json()["limit"] == limits.RESTORE_BODY_LIMIT


def test_a_logged_change_that_no_longer_applies_is_the_servers_500_not_a_422(
    settings, clocked, clock, make_client
):
    """A log that cannot be replayed (here: altered in the database) is never blamed on the
    client: a process that must rebuild the state answers 500, in the error shape."""
    client, deps = clocked
    large = {**STATE, "заповнення": "ж" * 5000}
    session_id = client.post(
        "/sessions/", json={"state": large}, headers=client.auth("олена")
    ).json()["id"]
    assert diff(client, session_id, RENAME).status_code == 200
    assert diff(client, session_id, APPEND).status_code == 200
    with deps.database.engine.begin() as connection:
        altered = connection.execute(
            sa.update(ChangeRow)
            .where(ChangeRow.rev == 1)
            .values(ops='[{"op": "remove", "path": "/нема"}]'.encode())
        )
        assert altered.rowcount == 1
    cold, _ = make_client(dataclasses.replace(settings, changes_kept=3), clock)
    read = cold.get(f"/sessions/{session_id}/", headers=cold.auth("олена"))
    restored = restore(cold, session_id, 1, **{"If-Match": '"2"'})
    assert (read.status_code, restored.status_code) == (500, 500)
    assert read.json() == error_body(read, refusals.InternalError)
    assert restored.json() == error_body(restored, refusals.InternalError)
    assert client.get(f"/sessions/{session_id}/", headers=client.auth("олена")).json()["rev"] == 2
