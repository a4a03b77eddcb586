"""Snapshot retention: what the policy keeps stays, the rest leaves the database and the
store (local folder, and S3 over HTTP), in bounded passes, through store outages."""

import asyncio
import dataclasses
import datetime as dt
import time
import uuid

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from solo import limits
from solo.db.models import PendingDeletionRow
from solo.domain import errors as domain
from solo.domain.model import Patch
from solo.domain.preconditions import from_headers
from solo.services import cleanup, retention, snapshots, writes
from solo.storage.factory import open_blob_store
from solo.web.app import create_app
from tests.conftest import BACKENDS
from tests.support.bodies import error_body
from tests.support.clock import FakeClock
from tests.support.sessions import create_session
from tests.support.stores import is_local, stored_keys

USER = "олена"
STATE = {"текст": ""}
POLICY = {"snapshots_keep_last": 3, "snapshots_keep_hourly": 6, "snapshots_keep_daily": 4}
SESSIONS = 50
SNAPSHOTS_EACH = 20
STEP_MINUTES = (7, 23, 61, 180, 400)
"""Minutes between one session's snapshots, by session: within an hour, across hours,
across days."""


@pytest.fixture
def blob_store(store_settings, clock):
    return open_blob_store(store_settings, clock)


@pytest.fixture
def clocked(store_settings, clock, make_client, blob_store):
    return make_client(dataclasses.replace(store_settings, **POLICY), clock, blob_store)


@pytest.fixture
def client(clocked):
    return clocked[0]


@pytest.fixture
def deps(clocked):
    return clocked[1]


def write_and_snapshot(client, session_id, text):
    auth = client.auth(USER)
    ops = [{"op": "replace", "path": "/текст", "value": text}]
    written = client.patch(
        f"/sessions/{session_id}/diff/", json={"ops": ops}, headers={**auth, "If-Match": "*"}
    )
    assert written.status_code == 200
    snapshot = client.post(f"/sessions/{session_id}/snapshot/", headers=auth)
    assert snapshot.status_code == 201
    return snapshot.json()["rev"]


async def made_directly(deps, start, sessions):
    """The thousand writes and snapshots of the run, through the same services their
    handlers call (HTTP and its spec checks have tests of their own), sessions side by
    side, each on a clock of its own that steps by its STEP_MINUTES; the rev of each
    session's first snapshot."""

    async def one_session(index, session_id):
        own = FakeClock(start)
        first = None
        for n in range(SNAPSHOTS_EACH):
            own.now += dt.timedelta(minutes=STEP_MINUTES[index % len(STEP_MINUTES)])
            ops = [{"op": "replace", "path": "/текст", "value": f"версія {n}"}]
            request = writes.Write(USER, uuid.UUID(session_id), from_headers("*", None), Patch(ops))
            await deps.database.in_session_thread(
                request.session_id,
                writes.write,
                deps.database.unit_of_work(),
                deps.states,
                request,
                clock=own,
                kept=deps.settings.kept_log,
            )
            snapshot, written = await snapshots.take_snapshot(
                deps.database,
                deps.states,
                deps.store,
                writes=deps.snapshot_writes,
                owner=USER,
                session_id=request.session_id,
                clock=own,
            )
            assert written
            first = snapshot.rev if first is None else first
        return session_id, first

    return dict(await asyncio.gather(*map(one_session, range(len(sessions)), sessions)))


def listed(client, session_id):
    auth = client.auth(USER)
    page = client.get(f"/sessions/{session_id}/snapshots/?limit=200", headers=auth).json()
    return [
        (item["rev"], item["created_at"], item["pinned"], item["size"]) for item in page["items"]
    ]


def review_until_done(deps, clock):
    """Retention passes until none collects anything more; what each pass collected."""
    passes = []
    while True:
        collected = asyncio.run(
            retention.review_due(deps.database, deps.settings.retention, clock, deps.metrics)
        )
        if not collected:
            return passes
        passes.append(len(collected))


def sweep_until_done(deps, clock):
    while asyncio.run(cleanup.sweep(deps.database, deps.store, clock)):
        pass


def expected_kept(snapshots, now):
    """The policy of POLICY, read off its definition: the 3 newest, the newest of each of
    the last 6 clock hours, of each of the last 4 days, and the pinned ones."""
    newest_first = sorted(snapshots, reverse=True)
    keep = {rev for rev, *_ in newest_first[:3]}
    keep |= {rev for rev, _at, pinned, _size in newest_first if pinned}
    for width, last in ((13, 6), (10, 4)):  # "2026-11-26T09" is an hour, "2026-11-26" a day
        unit = dt.timedelta(hours=1) if width == 13 else dt.timedelta(days=1)
        periods = {(now - n * unit).isoformat()[:width] for n in range(last)}
        seen = set()
        for rev, at, *_ in newest_first:
            if at[:width] in periods and at[:width] not in seen:
                seen.add(at[:width])
                keep.add(rev)
    return keep


@pytest.mark.slow(20)
@pytest.mark.parametrize(
    ("database_url", "store_settings"),
    # Each database once and each store once: a thousand snapshots take a while to make.
    [("sqlite", "local"), *([("postgresql", "s3")] if "postgresql" in BACKENDS else [])],
    indirect=True,
)
def test_a_retention_run_over_a_thousand_snapshots_keeps_exactly_what_the_policy_says(
    client, deps, clock
):
    start = clock.now
    sessions = [create_session(client, STATE, USER) for _ in range(SESSIONS)]
    first = asyncio.run(made_directly(deps, start, sessions))
    for session_id in sessions[::10]:
        pinned = client.patch(
            f"/sessions/{session_id}/snapshots/{first[session_id]}/",
            json={"pinned": True},
            headers=client.auth(USER),
        )
        assert pinned.status_code == 200
    made = {session_id: listed(client, session_id) for session_id in sessions}
    assert sum(len(snapshots) for snapshots in made.values()) == SESSIONS * SNAPSHOTS_EACH
    clock.now = start + dt.timedelta(days=6)
    now = clock.now.replace(tzinfo=None)
    expected = {session_id: expected_kept(made[session_id], now) for session_id in sessions}
    kept_count = sum(len(revs) for revs in expected.values())
    assert 0 < kept_count < SESSIONS * SNAPSHOTS_EACH

    passes = review_until_done(deps, clock)
    sweep_until_done(deps, clock)

    assert len(passes) > 1
    assert max(passes) <= limits.RETENTION_SNAPSHOTS_PER_PASS
    assert sum(passes) == SESSIONS * SNAPSHOTS_EACH - kept_count
    for session_id in sessions:
        assert {rev for rev, *_ in listed(client, session_id)} == expected[session_id]
    prefix = "" if is_local(deps.settings) else "префікс/"
    assert stored_keys(deps.settings) == sorted(
        f"{prefix}solo/{USER}/{session_id}/{rev}.json"
        for session_id, revs in expected.items()
        for rev in revs
    )
    registry = deps.metrics.registry
    labels = {"reason": "retention"}
    assert registry.get_sample_value("solo_snapshots_collected_total", labels) == sum(passes)
    assert registry.get_sample_value("solo_snapshot_bytes_collected_total", labels) == sum(
        size
        for session_id, snapshots in made.items()
        for rev, _at, _pinned, size in snapshots
        if rev not in expected[session_id]
    )
    usage = client.get("/usage/", headers=client.auth(USER)).json()
    states = SESSIONS * len('{"текст":"версія 19"}'.encode())
    kept_bytes = sum(size for session_id in sessions for *_, size in listed(client, session_id))
    assert usage["bytes"]["used"] == states + kept_bytes
    assert review_until_done(deps, clock) == []


def test_objects_the_store_did_not_take_are_deleted_once_it_answers(
    client, deps, clock, blob_store, monkeypatch
):
    session_id = create_session(client, STATE, USER)
    revs = []
    for n in range(5):
        clock.now += dt.timedelta(days=1)
        revs.append(write_and_snapshot(client, session_id, f"день {n}"))
    keys = stored_keys(deps.settings)

    def down(key):
        raise domain.StorageUnavailable("S3 answered ServiceUnavailable")

    monkeypatch.setattr(blob_store, "delete", down)
    monkeypatch.setattr(blob_store, "delete_many", down)
    clock.now += dt.timedelta(days=10)
    review_until_done(deps, clock)
    sweep_until_done(deps, clock)
    assert [rev for rev, *_ in listed(client, session_id)] == revs[-3:][::-1]
    assert stored_keys(deps.settings) == keys
    assert len(pending_deletions(deps)) == 2
    monkeypatch.undo()
    sweep_until_done(deps, clock)
    assert stored_keys(deps.settings) == keys
    clock.now += dt.timedelta(seconds=limits.SWEEP_RETRY_SECONDS)
    sweep_until_done(deps, clock)
    assert len(stored_keys(deps.settings)) == 3
    assert pending_deletions(deps) == []


def test_a_collected_snapshots_rev_cannot_be_restored(store_settings, clock, make_client):
    settings = dataclasses.replace(store_settings, changes_kept=1, **POLICY)
    client, deps = make_client(settings, clock)
    session_id = create_session(client, STATE, USER)
    first = write_and_snapshot(client, session_id, "перша")
    for n in range(4):
        clock.now += dt.timedelta(days=10)
        write_and_snapshot(client, session_id, f"наступна {n}")
    review_until_done(deps, clock)
    assert first not in [rev for rev, *_ in listed(client, session_id)]
    restored = client.post(
        f"/sessions/{session_id}/restore/",
        json={"rev": first},
        headers={**client.auth(USER), "If-Match": "*"},
    )
    assert restored.status_code == 422
    assert restored.json() == error_body(restored, domain.RevisionUnavailable, rev=first)


def test_a_session_with_no_more_than_the_newest_is_not_looked_at_again(client, deps, clock):
    session_id = create_session(client, STATE, USER)
    for n in range(3):
        write_and_snapshot(client, session_id, f"версія {n}")
    assert review_until_done(deps, clock) == []
    with deps.database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM retention_due")).scalar() == 0


def pending_deletions(deps):
    with deps.database.engine.connect() as connection:
        return list(connection.execute(sa.select(PendingDeletionRow.prefix)).scalars())


def test_every_server_process_applies_the_policy_by_itself(
    store_settings, clock, make_client, monkeypatch
):
    """The lifespan's background work: a pass every SWEEP_SECONDS or so, objects included."""
    policy = {"snapshots_keep_last": 1, "snapshots_keep_hourly": 0, "snapshots_keep_daily": 0}
    client, deps = make_client(dataclasses.replace(store_settings, **policy), clock)
    session_id = create_session(client, STATE, USER)
    for n in range(3):
        write_and_snapshot(client, session_id, f"версія {n}")
    assert len(stored_keys(deps.settings)) == 3
    monkeypatch.setattr(limits, "SWEEP_SECONDS", 0.05)
    with TestClient(create_app(deps.settings, deps)):
        deadline = time.monotonic() + 30
        while len(stored_keys(deps.settings)) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [rev for rev, *_ in listed(client, session_id)] == [3]
    assert stored_keys(deps.settings)[0].endswith(f"{session_id}/3.json")
