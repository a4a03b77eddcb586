"""Snapshots: claimed, written to the store outside any transaction, then listed. On the
in-memory unit of work and store."""

import asyncio
import dataclasses
import datetime as dt
import json

import pytest

from solo import limits
from solo.domain import jsonvalue
from solo.domain.errors import NotFound, QuotaExceeded, StorageUnavailable
from solo.domain.keys import snapshot_key
from solo.domain.model import KeptLog, Patch, StoredSnapshot
from solo.domain.preconditions import from_headers
from solo.domain.quotas import Quotas, Usage
from solo.runtime.snapshot_writes import SnapshotWrites
from solo.services import sessions, snapshots, writes
from tests.support.clock import START
from tests.support.fakes import FakeDatabase, FakeStore, SnapshotRow

STATE = {"назва": "Нотатки", "рядки": ["перший", "другий"]}


@pytest.fixture
def session(fake_db, cache, clock):
    return sessions.create_session(
        fake_db.unit_of_work(), cache, owner="олена", state=dict(STATE), clock=clock
    ).session


def taking(fake_db, cache, store, clock, session_id, *, owner="олена", writes=None):
    return snapshots.take_snapshot(
        fake_db,
        cache,
        store,
        writes=writes or SnapshotWrites(poll_seconds=limits.SNAPSHOT_CLAIM_POLL_SECONDS),
        owner=owner,
        session_id=session_id,
        clock=clock,
    )


def take(fake_db, cache, store, clock, session_id, **options):
    return asyncio.run(taking(fake_db, cache, store, clock, session_id, **options))


def document(session_id, rev, at, state) -> bytes:
    header = {"session_id": str(session_id), "rev": rev, "created_at": jsonvalue.timestamp(at)}
    return jsonvalue.with_members(header, state=jsonvalue.encode(state))


def write(fake_db, cache, clock, session_id):
    ops = [{"op": "add", "path": "/рядки/-", "value": "ще"}]
    request = writes.Write("олена", session_id, from_headers("*", None), Patch(ops))
    writes.write(fake_db.unit_of_work(), cache, request, clock=clock, kept=KeptLog(100, 1 << 20))


def test_a_snapshot_is_written_once_per_rev_counted_and_scheduled_for_retention(
    fake_db, cache, store, clock, session
):
    written = document(session.id, 0, START, STATE)
    key = snapshot_key("олена", str(session.id), 0)
    expected = StoredSnapshot(0, key, len(written), START)
    assert take(fake_db, cache, store, clock, session.id) == (expected, True)
    assert store.objects == {key: written}
    assert json.loads(written)["state"] == STATE
    clock.now += dt.timedelta(minutes=1)
    assert take(fake_db, cache, store, clock, session.id) == (expected, False)
    assert [call for call in store.calls if call[0] == "put"] == [("put", key)]
    tables = fake_db.tables
    assert tables.snapshots == {(session.id, 0): SnapshotRow(expected, None)}
    assert tables.usage["олена"] == Usage(1, session.size + len(written))
    assert tables.retention == {session.id: START}


def test_requests_for_a_rev_this_process_writes_wait_for_it_and_ask_the_database_twice(
    fake_db, cache, store, clock, session
):
    """The first claims the rev and writes it; the others find it claimed, wait for that
    write, and then find it written: two claims each, however slow the store."""
    put = store.put

    async def slow_put(key, data):
        await asyncio.sleep(10 * limits.SNAPSHOT_CLAIM_POLL_SECONDS)
        await put(key, data)

    store.put = slow_put
    requests = 8

    async def many():
        writes = SnapshotWrites(poll_seconds=limits.SNAPSHOT_CLAIM_POLL_SECONDS)
        return await asyncio.gather(
            *(
                taking(fake_db, cache, store, clock, session.id, writes=writes)
                for _ in range(requests)
            )
        )

    results = asyncio.run(many())
    key = snapshot_key("олена", str(session.id), 0)
    written = StoredSnapshot(0, key, len(document(session.id, 0, START, STATE)), START)
    assert results == [(written, True)] + [(written, False)] * (requests - 1)
    assert store.calls == [("put", key)]
    assert fake_db.calls.count("_claim") == 1 + 2 * (requests - 1)


def test_a_store_that_does_not_answer_leaves_no_claim_and_no_bytes_counted(
    fake_db, cache, store, clock, session
):
    store.down = True
    with pytest.raises(StorageUnavailable) as unavailable:
        take(fake_db, cache, store, clock, session.id)
    key = snapshot_key("олена", str(session.id), 0)
    assert unavailable.value.detail == f"snapshot {key} not written: the fake store is down (put)"
    tables = fake_db.tables
    assert tables.snapshots == {} and tables.usage["олена"] == Usage(1, session.size)
    store.down = False
    assert take(fake_db, cache, store, clock, session.id)[1] is True


def test_a_session_deleted_while_its_object_is_written_leaves_no_object(
    fake_db, cache, store, clock, session
):
    put = store.put

    async def put_then_delete(key, data):
        await put(key, data)
        sessions.delete_session(
            fake_db.unit_of_work(),
            cache,
            owner="олена",
            session_id=session.id,
            precondition=from_headers("*", None),
            clock=clock,
        )

    store.put = put_then_delete
    with pytest.raises(NotFound):
        take(fake_db, cache, store, clock, session.id)
    assert store.objects == {}
    assert fake_db.tables.usage["олена"] == Usage(0, 0)


def test_a_snapshot_past_the_bytes_quota_is_refused_before_the_store_is_called(cache, clock):
    fake_db = FakeDatabase(Quotas(sessions=5, bytes=60))
    session = sessions.create_session(
        fake_db.unit_of_work(), cache, owner="олена", state={"а": "б"}, clock=clock
    ).session
    store = FakeStore()
    with pytest.raises(QuotaExceeded) as refused:
        take(fake_db, cache, store, clock, session.id)
    assert (refused.value.quota, refused.value.limit, refused.value.used) == (
        "bytes",
        60,
        session.size,
    )
    assert store.calls == [] and fake_db.tables.snapshots == {}


def test_a_rev_whose_deleted_object_may_still_be_deleted_waits_then_is_unavailable(
    fake_db, cache, store, clock, session
):
    store.deadline_seconds = 0.05
    with fake_db.unit_of_work().write() as uow:
        uow.deletions.add(snapshot_key("олена", str(session.id), 0), START)
        uow.commit()
    with pytest.raises(StorageUnavailable) as unavailable:
        take(fake_db, cache, store, clock, session.id, writes=SnapshotWrites(poll_seconds=0.01))
    assert unavailable.value.detail == "another request's snapshot of this rev is still written"
    assert store.calls == [] and fake_db.tables.snapshots == {}
    assert fake_db.calls.count("_claim") >= 2


def test_a_strangers_session_has_no_snapshot_to_take(fake_db, cache, store, clock, session):
    with pytest.raises(NotFound):
        take(fake_db, cache, store, clock, session.id, owner="богдан")


def test_snapshots_are_listed_newest_first_in_pages_and_found_by_rev(
    fake_db, cache, store, clock, session
):
    taken = []
    for _ in range(5):
        clock.now += dt.timedelta(minutes=1)
        taken.append(take(fake_db, cache, store, clock, session.id)[0])
        write(fake_db, cache, clock, session.id)
    uow = fake_db.unit_of_work
    newest_first = taken[::-1]
    assert snapshots.latest_snapshot(uow(), owner="олена", session_id=session.id) == taken[-1]
    assert snapshots.snapshot_of_rev(uow(), owner="олена", session_id=session.id, rev=2) == taken[2]
    pages, before = [], None
    while True:
        page = snapshots.list_snapshots(
            uow(), owner="олена", session_id=session.id, limit=2, before_rev=before
        )
        pages.append(page.items)
        if page.next_before_rev is None:
            break
        assert page.next_before_rev == page.items[-1].rev
        before = page.next_before_rev
    assert pages == [newest_first[:2], newest_first[2:4], newest_first[4:]]
    with pytest.raises(NotFound) as missing:
        snapshots.snapshot_of_rev(uow(), owner="олена", session_id=session.id, rev=5)
    assert missing.value.message == "This session has no snapshot of that rev."
    with pytest.raises(NotFound):
        snapshots.list_snapshots(
            uow(), owner="богдан", session_id=session.id, limit=2, before_rev=None
        )


def test_a_session_without_snapshots_has_no_latest(fake_db, cache, session):
    with pytest.raises(NotFound) as missing:
        snapshots.latest_snapshot(fake_db.unit_of_work(), owner="олена", session_id=session.id)
    assert missing.value.message == "This session has no snapshot yet."
    assert snapshots.list_snapshots(
        fake_db.unit_of_work(), owner="олена", session_id=session.id, limit=5, before_rev=None
    ) == snapshots.SnapshotPage([], None)
    assert dataclasses.asdict(snapshots.SnapshotPage([], None)) == {
        "items": [],
        "next_before_rev": None,
    }
