"""No snapshot object outlives its session: races, store outages, dead requests, leftovers."""

import asyncio
import dataclasses
import datetime as dt
import os
import time
import uuid

import pytest
import sqlalchemy as sa

from solo import limits
from solo.db.models import PendingDeletionRow, SnapshotRow
from solo.domain import errors as domain
from solo.services import cleanup, snapshots
from solo.storage.factory import open_blob_store
from tests.handlers.test_snapshots import STATE, download, snapshot
from tests.support.bodies import error_body
from tests.support.sessions import create_session
from tests.support.stores import incoming_folder, stored_keys


@pytest.fixture
def blob_store(store_settings, clock):
    """The store the server uses, held here so that a test can make its calls fail."""
    return open_blob_store(store_settings, clock)


@pytest.fixture
def clocked(store_settings, clock, make_client, blob_store):
    return make_client(store_settings, clock, blob_store=blob_store)


@pytest.fixture
def client(clocked):
    return clocked[0]


@pytest.fixture
def deps(clocked):
    return clocked[1]


def delete(client, session_id):
    return client.delete(
        f"/sessions/{session_id}/", headers={**client.auth("олена"), "If-Match": "*"}
    )


def sweep(deps, clock, after_seconds=0):
    clock.now += dt.timedelta(seconds=after_seconds)
    asyncio.run(cleanup.sweep(deps.database, deps.store, clock))


def pending_deletions(deps) -> list[str]:
    with deps.database.engine.connect() as connection:
        return list(connection.execute(sa.select(PendingDeletionRow.prefix)).scalars())


def test_a_delete_removes_the_objects_at_once_and_sweeps_them_again_later(client, deps, clock):
    session_id = create_session(client, STATE)
    url = snapshot(client, session_id).json()["url"]
    assert delete(client, session_id).status_code == 204
    assert stored_keys(deps.settings) == []
    assert download(client, url).status_code in (403, 404)
    sweep(deps, clock, after_seconds=limits.SNAPSHOT_SETTLE_SECONDS - 1)
    assert pending_deletions(deps) == [f"solo/олена/{session_id}/"]
    sweep(deps, clock, after_seconds=2)
    assert pending_deletions(deps) == []


def test_a_delete_while_the_store_is_down_is_retried_until_the_objects_are_gone(
    client, deps, clock, monkeypatch, blob_store
):
    session_id = create_session(client, STATE)
    snapshot(client, session_id)
    kept = stored_keys(deps.settings)

    def down(prefix):
        raise domain.StorageUnavailable("S3 answered ServiceUnavailable")

    monkeypatch.setattr(blob_store, "delete_prefix", down)
    assert delete(client, session_id).status_code == 204
    sweep(deps, clock, after_seconds=limits.SNAPSHOT_SETTLE_SECONDS + 1)
    assert stored_keys(deps.settings) == kept
    assert pending_deletions(deps) == [f"solo/олена/{session_id}/"]
    monkeypatch.undo()
    sweep(deps, clock, after_seconds=limits.SWEEP_RETRY_SECONDS - 1)
    assert stored_keys(deps.settings) == kept
    sweep(deps, clock, after_seconds=2)
    assert stored_keys(deps.settings) == []
    assert pending_deletions(deps) == []


def test_a_session_deleted_while_its_snapshot_is_written_leaves_no_object(
    client, deps, monkeypatch, blob_store
):
    session_id = create_session(client, STATE)
    other = create_session(client, STATE)
    real_put = blob_store.put

    def put_racing_a_delete(key, data):
        if session_id in key:
            assert delete(client, session_id).status_code == 204
        real_put(key, data)

    monkeypatch.setattr(blob_store, "put", put_racing_a_delete)
    response = snapshot(client, session_id)
    assert response.status_code == 404
    assert response.json() == error_body(response, domain.NotFound)
    assert snapshot(client, other).status_code == 201
    assert [key.split("/")[-2] for key in stored_keys(deps.settings)] == [other]


def test_a_claim_whose_request_died_is_reaped_with_its_object(client, deps, clock, blob_store):
    session_id = create_session(client, STATE)
    claimed = snapshots._claim(
        deps.database.unit_of_work(),
        deps.states,
        owner="олена",
        session_id=_uuid(session_id),
        clock=clock,
    )
    blob_store.put(claimed.claim.snapshot.key, claimed.document)
    listed = client.get(f"/sessions/{session_id}/snapshots/", headers=client.auth("олена"))
    assert listed.json()["items"] == []
    sweep(deps, clock, after_seconds=limits.SNAPSHOT_SETTLE_SECONDS - 1)
    assert len(stored_keys(deps.settings)) == 1
    sweep(deps, clock, after_seconds=2)
    assert stored_keys(deps.settings) == []
    with deps.database.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(SnapshotRow)).scalar() == 0
    assert snapshot(client, session_id).status_code == 201


def test_a_snapshot_claimed_by_a_running_request_is_503_after_the_deadline(
    store_settings, clock, make_client
):
    settings = dataclasses.replace(store_settings, storage_deadline_seconds=1)
    client, deps = make_client(settings, clock)
    session_id = create_session(client, STATE)
    snapshots._claim(
        deps.database.unit_of_work(),
        deps.states,
        owner="олена",
        session_id=_uuid(session_id),
        clock=clock,
    )
    response = snapshot(client, session_id)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(limits.RETRY_AFTER_SECONDS)
    assert response.json()["checks"] == {"storage": "unavailable"}


def test_temporary_files_of_interrupted_writes_are_removed_once_old(settings, clock, make_client):
    """The local store's, that is: an S3 PutObject leaves nothing behind."""
    _client, deps = make_client(settings, clock)
    incoming = incoming_folder(settings)
    incoming.mkdir(parents=True, exist_ok=True)
    old, fresh = incoming / "вбитий-запис", incoming / "триває"
    old.write_bytes(b"{")
    fresh.write_bytes(b"{")
    long_ago = time.time() - limits.SNAPSHOT_SETTLE_SECONDS - 1
    os.utime(old, (long_ago, long_ago))
    sweep(deps, clock)
    assert sorted(p.name for p in incoming.iterdir()) == ["триває"]


def _uuid(text):
    return uuid.UUID(text)
