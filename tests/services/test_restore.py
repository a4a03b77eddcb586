"""Restore: a kept revision's state, rebuilt from the log or read from its snapshot,
becomes a new revision. On the in-memory unit of work and store."""

import asyncio
import datetime as dt

import pytest

from solo import limits
from solo.domain import jsonvalue
from solo.domain.errors import IdempotencyKeyReused, PreconditionFailed, Reason, RevisionUnavailable
from solo.domain.model import KeptLog, LoggedChange, Patch
from solo.domain.preconditions import from_headers
from solo.runtime.snapshot_writes import SnapshotWrites
from solo.services import restore, sessions, snapshots, writes
from solo.services.idempotency import Keyed

KEPT = KeptLog(changes=1000, bytes=32 * limits.MIB)
FILLER = "ї" * 400
"""Keeps the state larger than the ops logged since its checkpoint: revs are rebuilt
from the log, not each from a checkpoint of its own."""


def states_by_rev():
    return [{"текст": FILLER, "рядок": n} for n in range(6)]


@pytest.fixture
def session_id(fake_db, cache, clock):
    session = sessions.create_session(
        fake_db.unit_of_work(), cache, owner="олена", state=states_by_rev()[0], clock=clock
    ).session
    for n in range(1, 6):
        clock.now += dt.timedelta(seconds=1)
        ops = [{"op": "replace", "path": "/рядок", "value": n}]
        request = writes.Write("олена", session.id, from_headers("*", None), Patch(ops))
        writes.write(fake_db.unit_of_work(), cache, request, clock=clock, kept=KEPT)
    return session.id


def restored(fake_db, cache, store, clock, session_id, rev, if_match="*", keyed=None, kept=KEPT):
    clock.now += dt.timedelta(seconds=1)
    return asyncio.run(
        restore.restore(
            fake_db,
            cache,
            store,
            owner="олена",
            session_id=session_id,
            precondition=from_headers(if_match, None),
            rev=rev,
            clock=clock,
            kept=kept,
            keyed=keyed,
        )
    )


def current(fake_db, cache, session_id):
    head, encoded = sessions.get_session(
        fake_db.unit_of_work(), cache, owner="олена", session_id=session_id
    )
    return head.rev, jsonvalue.decode(encoded)[0]


@pytest.mark.parametrize("rev", [0, 2, 5])
def test_a_kept_rev_is_rebuilt_from_the_log_and_written_as_a_whole_state(
    fake_db, cache, store, clock, session_id, rev
):
    written = restored(fake_db, cache, store, clock, session_id, rev, if_match='"5"')
    body = {"rev": 6, "updated_at": clock.stamp}
    assert written == writes.Written(6, clock.now, body)
    assert current(fake_db, cache, session_id) == (6, states_by_rev()[rev])
    tables = fake_db.tables
    assert tables.changes[(session_id, 6)] == LoggedChange(6, clock.now, None)
    assert tables.checkpoints[(session_id, 6)] == jsonvalue.encode(states_by_rev()[rev])
    assert store.calls == []


def test_a_compacted_rev_is_read_from_its_snapshot_object(fake_db, cache, store, clock, session_id):
    asyncio.run(
        snapshots.take_snapshot(
            fake_db,
            cache,
            store,
            writes=SnapshotWrites(poll_seconds=limits.SNAPSHOT_CLAIM_POLL_SECONDS),
            owner="олена",
            session_id=session_id,
            clock=clock,
        )
    )
    restored(fake_db, cache, store, clock, session_id, 0, kept=KeptLog(changes=0, bytes=1 << 20))
    assert fake_db.tables.checkpoints.keys() == {(session_id, 6)}  # the log forgot 0 … 5
    written = restored(fake_db, cache, store, clock, session_id, 5)
    assert (written.rev, current(fake_db, cache, session_id)) == (7, (7, states_by_rev()[5]))
    assert [name for name, _ in store.calls] == ["put", "get"]


def test_a_rev_neither_the_log_nor_a_snapshot_has_is_unavailable(
    fake_db, cache, store, clock, session_id
):
    for rev in (-1, 6, 99):
        with pytest.raises(RevisionUnavailable) as unavailable:
            restored(fake_db, cache, store, clock, session_id, rev)
        assert unavailable.value.rev == rev
    assert current(fake_db, cache, session_id)[0] == 5


def test_a_stale_precondition_is_412_before_the_rev_is_looked_for(
    fake_db, cache, store, clock, session_id
):
    with pytest.raises(PreconditionFailed) as refused:
        restored(fake_db, cache, store, clock, session_id, 99, if_match='"4"')
    assert (refused.value.reason, refused.value.current_rev) == (Reason.MISMATCH, 5)


def test_a_keyed_restore_is_applied_once_and_replayed(fake_db, cache, store, clock, session_id):
    keyed = Keyed("ключ-відновлення", "відбиток")
    first = restored(fake_db, cache, store, clock, session_id, 1, keyed=keyed)
    again = restored(fake_db, cache, store, clock, session_id, 1, keyed=keyed)
    assert again == writes.Written(6, None, first.body, replayed=True)
    assert current(fake_db, cache, session_id) == (6, states_by_rev()[1])
    with pytest.raises(IdempotencyKeyReused):
        restored(fake_db, cache, store, clock, session_id, 1, keyed=Keyed(keyed.key, "інший"))


def test_a_snapshot_document_without_an_object_state_restores_nothing():
    assert restore._state_of_snapshot(None) is None
    assert restore._state_of_snapshot(b'{"state":[1]}') is None
    assert (
        restore._state_of_snapshot('{"rev":1,"state":{"ґ":"є"}}'.encode()) == '{"ґ":"є"}'.encode()
    )
