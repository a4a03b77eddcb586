"""A snapshot can be named, pinned and deleted, on both stores."""

import dataclasses
import datetime as dt
import json

import pytest

from solo import limits
from solo.domain import errors as domain
from solo.http import refusals
from tests.handlers.test_snapshots import STATE, download, key_prefix, snapshot
from tests.services.test_retention import review_until_done, sweep_until_done
from tests.support.bodies import error_body
from tests.support.sessions import create_session
from tests.support.stores import stored_keys


@pytest.fixture
def clocked(store_settings, clock, make_client):
    return make_client(store_settings, clock)


@pytest.fixture
def client(clocked):
    return clocked[0]


@pytest.fixture
def deps(clocked):
    return clocked[1]


def label(client, session_id, rev, body, user="олена"):
    return client.patch(
        f"/sessions/{session_id}/snapshots/{rev}/", json=body, headers=client.auth(user)
    )


def delete(client, session_id, rev, user="олена"):
    return client.delete(f"/sessions/{session_id}/snapshots/{rev}/", headers=client.auth(user))


def save(client, session_id, state):
    return client.post(
        f"/sessions/{session_id}/save-stream/",
        json=state,
        headers={**client.auth("олена"), "If-Match": "*"},
    )


def test_a_snapshot_is_named_and_pinned_and_lists_and_links_say_so(client):
    session_id = create_session(client, STATE)
    snapshot(client, session_id)
    named = label(client, session_id, 0, {"name": "Перед великою правкою", "pinned": True})
    assert named.status_code == 200
    summary = {
        "rev": 0,
        "created_at": "2026-11-26T09:00:00Z",
        "size": named.json()["size"],
        "name": "Перед великою правкою",
        "pinned": True,
    }
    assert named.json() == summary
    auth = client.auth("олена")
    listed = client.get(f"/sessions/{session_id}/snapshots/", headers=auth).json()
    assert listed == {"items": [summary], "next_before_rev": None}
    link = client.get(f"/sessions/{session_id}/snapshots/0/", headers=auth).json()
    assert (link["name"], link["pinned"]) == ("Перед великою правкою", True)
    unpinned = label(client, session_id, 0, {"pinned": False})
    assert unpinned.json() == {**summary, "pinned": False}
    unnamed = label(client, session_id, 0, {"name": None})
    assert unnamed.json() == {**summary, "pinned": False, "name": None}


@pytest.mark.parametrize(
    ("body", "message", "field"),
    [
        ({}, "body: {} should be non-empty", "body"),
        ({"name": ""}, "name: '' should be non-empty", "name"),
        (
            {"name": "я" * (limits.SNAPSHOT_NAME_MAX_LENGTH + 1)},
            f"name: {'я' * (limits.SNAPSHOT_NAME_MAX_LENGTH + 1)!r} is too long",
            "name",
        ),
        ({"pinned": "так"}, "pinned: 'так' is not of type 'boolean'", "pinned"),
        (
            {"колір": "синій"},
            "body: Additional properties are not allowed ('колір' was unexpected)",
            "body",
        ),
    ],
)
def test_labels_the_spec_does_not_allow_are_400(client, body, message, field):
    session_id = create_session(client, STATE)
    snapshot(client, session_id)
    response = label(client, session_id, 0, body)
    assert response.status_code == 400
    assert response.json() == error_body(response, refusals.InvalidRequest(message), field=field)


def test_a_name_of_the_longest_length_fits_the_body_limit_even_escaped(client):
    session_id = create_session(client, STATE)
    snapshot(client, session_id)
    name = "я" * limits.SNAPSHOT_NAME_MAX_LENGTH
    body = json.dumps({"name": name, "pinned": True}).encode()  # \u044f: six bytes each
    assert len(body) <= limits.SNAPSHOT_LABEL_BODY_LIMIT
    response = client.patch(
        f"/sessions/{session_id}/snapshots/0/",
        content=body,
        headers={**client.auth("олена"), "Content-Type": "application/json"},
    )
    assert (response.status_code, response.json()["name"]) == (200, name)


def test_labelling_or_deleting_what_is_not_there_or_not_yours_is_404(client, deps):
    session_id = create_session(client, STATE)
    snapshot(client, session_id)
    no_such_rev = domain.NotFound("This session has no snapshot of that rev.")
    for response, error in (
        (label(client, session_id, 1, {"pinned": True}), no_such_rev),
        (delete(client, session_id, 1), no_such_rev),
        (label(client, session_id, 0, {"pinned": True}, user="тарас"), domain.NotFound),
        (delete(client, session_id, 0, user="тарас"), domain.NotFound),
    ):
        assert response.status_code == 404
        assert response.json() == error_body(response, error)
    assert len(stored_keys(deps.settings)) == 1


def test_deleting_a_snapshot_removes_it_from_the_list_and_the_store_at_once(client, deps):
    session_id = create_session(client, STATE)
    url = snapshot(client, session_id).json()["url"]
    save(client, session_id, {"друга": "версія"})
    snapshot(client, session_id)
    assert label(client, session_id, 0, {"pinned": True}).status_code == 200
    deleted = delete(client, session_id, 0)
    assert (deleted.status_code, deleted.content) == (204, b"")
    auth = client.auth("олена")
    listed = client.get(f"/sessions/{session_id}/snapshots/", headers=auth).json()
    assert [item["rev"] for item in listed["items"]] == [1]
    assert stored_keys(deps.settings) == [f"{key_prefix(deps)}solo/олена/{session_id}/1.json"]
    assert download(client, url).status_code in (403, 404)
    gone = client.get(f"/sessions/{session_id}/snapshots/0/", headers=auth)
    assert gone.status_code == 404
    again = delete(client, session_id, 0)
    assert again.status_code == 404
    registry = deps.metrics.registry
    assert registry.get_sample_value("solo_snapshots_collected_total", {"reason": "deleted"}) == 1


def test_the_current_revs_snapshot_deleted_can_be_taken_again(client, deps):
    session_id = create_session(client, STATE)
    snapshot(client, session_id)
    assert delete(client, session_id, 0).status_code == 204
    again = snapshot(client, session_id)
    assert again.status_code == 201
    assert json.loads(download(client, again.json()["url"]).content)["state"] == STATE
    assert stored_keys(deps.settings) == [f"{key_prefix(deps)}solo/олена/{session_id}/0.json"]


def test_while_a_deleted_snapshots_object_is_still_to_go_its_rev_waits(
    store_settings, clock, make_client, monkeypatch
):
    """A store that did not take the deletion: writing the rev again now could lose the new
    object to the sweep's retry, so the snapshot waits (and is 503 past the deadline)."""
    settings = dataclasses.replace(store_settings, storage_deadline_seconds=1)
    client, deps = make_client(settings, clock)
    session_id = create_session(client, STATE)
    snapshot(client, session_id)

    async def down(key):
        raise domain.StorageUnavailable("S3 answered ServiceUnavailable")

    monkeypatch.setattr(deps.store, "delete", down)
    assert delete(client, session_id, 0).status_code == 204
    waited = snapshot(client, session_id)
    assert waited.status_code == 503
    assert waited.json()["checks"] == {"storage": "unavailable"}
    monkeypatch.undo()
    sweep_until_done(deps, clock)
    assert stored_keys(deps.settings) == []
    assert snapshot(client, session_id).status_code == 201
    assert len(stored_keys(deps.settings)) == 1


def test_a_pinned_snapshot_is_never_collected(store_settings, clock, make_client):
    policy = {"snapshots_keep_last": 1, "snapshots_keep_hourly": 0, "snapshots_keep_daily": 0}
    client, deps = make_client(dataclasses.replace(store_settings, **policy), clock)
    session_id = create_session(client, STATE)
    for n in range(4):
        clock.now += dt.timedelta(days=1)
        save(client, session_id, {"день": n})
        snapshot(client, session_id)
    label(client, session_id, 1, {"pinned": True, "name": "Важлива"})
    review_until_done(deps, clock)
    sweep_until_done(deps, clock)
    auth = client.auth("олена")
    listed = client.get(f"/sessions/{session_id}/snapshots/", headers=auth).json()["items"]
    assert [(item["rev"], item["pinned"]) for item in listed] == [(4, False), (1, True)]
    assert len(stored_keys(deps.settings)) == 2
