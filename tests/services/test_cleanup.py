"""No snapshot object outlives its session: races, store outages, dead requests, leftovers."""

import asyncio
import datetime as dt
import os
import time
import uuid

import pytest
import sqlalchemy as sa

from solo import errors, limits
from solo.db.models import PendingDeletionRow, SnapshotRow
from solo.services import cleanup, snapshots
from solo.storage import StorageUnavailable
from tests.handlers.test_snapshots import create, download, snapshot, stored_keys
from tests.support.bodies import error_body


@pytest.fixture
def clocked(store_settings, clock, make_client):
    return make_client(store_settings, clock)


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
    asyncio.run(cleanup.sweep(deps, deps.storage, clock))


def pending_deletions(deps) -> list[str]:
    with deps.engine.connect() as connection:
        return list(connection.execute(sa.select(PendingDeletionRow.prefix)).scalars())


def test_a_delete_removes_the_objects_at_once_and_sweeps_them_again_later(client, deps, clock):
    session_id = create(client)
    url = snapshot(client, session_id).json()["url"]
    assert delete(client, session_id).status_code == 204
    assert stored_keys(deps) == []
    assert download(client, url).status_code in (403, 404)
    sweep(deps, clock, after_seconds=limits.SNAPSHOT_SETTLE_SECONDS - 1)
    assert pending_deletions(deps) == [f"solo/олена/{session_id}/"]
    sweep(deps, clock, after_seconds=2)
    assert pending_deletions(deps) == []


def test_a_delete_while_the_store_is_down_is_retried_until_the_objects_are_gone(
    client, deps, clock, monkeypatch
):
    session_id = create(client)
    snapshot(client, session_id)
    kept = stored_keys(deps)

    def down(prefix):
        raise StorageUnavailable("S3 answered ServiceUnavailable")

    monkeypatch.setattr(deps.blob_store, "delete_prefix", down)
    assert delete(client, session_id).status_code == 204
    sweep(deps, clock, after_seconds=limits.SNAPSHOT_SETTLE_SECONDS + 1)
    assert stored_keys(deps) == kept
    assert pending_deletions(deps) == [f"solo/олена/{session_id}/"]
    monkeypatch.undo()
    sweep(deps, clock, after_seconds=limits.SWEEP_RETRY_SECONDS - 1)
    assert stored_keys(deps) == kept
    sweep(deps, clock, after_seconds=2)
    assert stored_keys(deps) == []
    assert pending_deletions(deps) == []


def test_a_session_deleted_while_its_snapshot_is_written_leaves_no_object(
    client, deps, monkeypatch
):
    session_id = create(client)
    other = create(client)
    real_put = deps.blob_store.put

    def put_racing_a_delete(key, data):
        if session_id in key:
            assert delete(client, session_id).status_code == 204
        real_put(key, data)

    monkeypatch.setattr(deps.blob_store, "put", put_racing_a_delete)
    response = snapshot(client, session_id)
    assert response.status_code == 404
    assert response.json() == error_body(response, errors.NotFound)
    assert snapshot(client, other).status_code == 201
    assert [key.split("/")[-2] for key in stored_keys(deps)] == [other]


def test_a_claim_whose_request_died_is_reaped_with_its_object(client, deps, clock):
    session_id = create(client)
    claimed = snapshots._claim(deps.unit_of_work(), deps.states, "олена", _uuid(session_id), clock)
    deps.blob_store.put(claimed.claim.snapshot.key, claimed.document)
    listed = client.get(f"/sessions/{session_id}/snapshots/", headers=client.auth("олена"))
    assert listed.json()["items"] == []
    sweep(deps, clock, after_seconds=limits.SNAPSHOT_SETTLE_SECONDS - 1)
    assert len(stored_keys(deps)) == 1
    sweep(deps, clock, after_seconds=2)
    assert stored_keys(deps) == []
    with deps.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(SnapshotRow)).scalar() == 0
    assert snapshot(client, session_id).status_code == 201


def test_a_snapshot_claimed_by_a_running_request_is_503_after_the_deadline(
    client, deps, clock, monkeypatch
):
    session_id = create(client)
    snapshots._claim(deps.unit_of_work(), deps.states, "олена", _uuid(session_id), clock)
    monkeypatch.setattr(limits, "STORAGE_DEADLINE_SECONDS", 0.2)
    response = snapshot(client, session_id)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(limits.RETRY_AFTER_SECONDS)
    assert response.json()["checks"] == {"storage": "unavailable"}


def test_temporary_files_of_interrupted_writes_are_removed_once_old(settings, clock, make_client):
    """The local store's, that is: an S3 PutObject leaves nothing behind."""
    _client, deps = make_client(settings, clock)
    incoming = deps.file_server.root / ".incoming"
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
