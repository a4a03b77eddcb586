"""A session's state at its rev: from the cache, caught up from the log, or loaded from
its checkpoint; the database's rev decides. On the in-memory unit of work."""

import dataclasses
import datetime as dt

import pytest

from solo import limits
from solo.domain import jsonvalue
from solo.domain.errors import DatabaseUnavailable, NotFound, ServerFault
from solo.domain.model import KeptLog, LoggedChange, Patch, Replace
from solo.domain.preconditions import from_headers
from solo.runtime.state_cache import StateCache
from solo.services import sessions, states, writes
from solo.services.idempotency import Keyed

START = {"назва": "Чернетка", "текст": "ї" * 300}
KEPT = KeptLog(changes=1000, bytes=32 * limits.MIB)


@pytest.fixture
def session(fake_db, cache, clock):
    return sessions.create_session(
        fake_db.unit_of_work(), cache, owner="олена", state=dict(START), clock=clock
    ).session


def write(fake_db, cache, clock, session_id, change):
    request = writes.Write("олена", session_id, from_headers("*", None), change)
    return writes.write(fake_db.unit_of_work(), cache, request, clock=clock, kept=KEPT)


def add(key, value) -> Patch:
    return Patch([{"op": "add", "path": f"/{key}", "value": value}])


def read(fake_db, cache, session_id, owner="олена"):
    head, encoded = states.owned_state(
        fake_db.unit_of_work(), cache, owner=owner, session_id=session_id
    )
    return head.rev, jsonvalue.decode(encoded)[0]


def test_a_cold_cache_loads_the_checkpoint_and_replays_the_log_after_it(
    fake_db, cache, clock, session
):
    write(fake_db, cache, clock, session.id, add("а", "перше"))
    write(fake_db, cache, clock, session.id, add("б", "друге"))
    cold = StateCache(1 << 20)
    assert read(fake_db, cold, session.id) == (2, {**START, "а": "перше", "б": "друге"})
    entry = cold.entry(session.id)
    assert (entry.rev, entry.state, cold.hits, cold.misses) == (
        2,
        {**START, "а": "перше", "б": "друге"},
        0,
        1,
    )
    assert entry.encoded == (2, jsonvalue.encode(entry.state))
    assert read(fake_db, cold, session.id)[0] == 2
    assert (cold.hits, cold.misses) == (1, 1)


def test_a_rev_that_is_a_checkpoint_is_answered_as_stored_without_parsing(
    fake_db, cache, clock, session
):
    cold = StateCache(1 << 20)
    head, encoded = states.owned_state(
        fake_db.unit_of_work(), cold, owner="олена", session_id=session.id
    )
    assert (head, encoded) == (session, jsonvalue.encode(START))
    entry = cold.entry(session.id)
    assert (entry.state, entry.encoded) == (None, (0, encoded))


def test_a_cache_behind_catches_up_from_the_log_without_its_checkpoint(
    fake_db, cache, clock, session
):
    other_process = StateCache(1 << 20)
    write(fake_db, other_process, clock, session.id, add("а", 1))
    write(fake_db, other_process, clock, session.id, add("б", 2))
    # Were the checkpoint needed, this read would fail: the cache at rev 0 replays 1 and 2.
    del fake_db.committed.checkpoints[(session.id, 0)]
    assert read(fake_db, cache, session.id) == (2, {**START, "а": 1, "б": 2})


def test_a_log_that_moved_on_under_every_read_is_database_unavailable(fake_db, clock, session):
    del fake_db.committed.checkpoints[(session.id, 0)]
    before = fake_db.transactions
    with pytest.raises(DatabaseUnavailable) as unavailable:
        read(fake_db, StateCache(1 << 20), session.id)
    assert unavailable.value.detail == "the log moved on under every read"
    assert fake_db.transactions - before == states.READ_ATTEMPTS


@pytest.mark.parametrize(
    ("logged", "detail"),
    [
        ('[{"op":"remove","path":"/немає"}]'.encode(), "could not be rebuilt from its log"),
        (None, "could not be rebuilt from its log"),
    ],
)
def test_a_logged_change_that_no_longer_applies_is_the_servers_fault(
    fake_db, cache, clock, session, logged, detail
):
    write(fake_db, cache, clock, session.id, add("а", 1))
    change = fake_db.committed.changes[(session.id, 1)]
    fake_db.committed.changes[(session.id, 1)] = dataclasses.replace(change, ops=logged)
    cold = StateCache(1 << 20)
    with pytest.raises(ServerFault) as fault:
        read(fake_db, cold, session.id)
    assert fault.value.detail == f"session {session.id} {detail}"
    entry = cold.entry(session.id)
    assert (entry.head, entry.state, entry.encoded) == (None, None, None)


def test_a_whole_state_write_is_read_from_its_own_checkpoint(fake_db, cache, clock, session):
    write(fake_db, cache, clock, session.id, add("а", 1))
    state = {"нове": "ціле"}
    write(fake_db, cache, clock, session.id, Replace(state, jsonvalue.encode(state)))
    assert fake_db.tables.changes[(session.id, 2)] == LoggedChange(2, clock.now, None)
    assert read(fake_db, StateCache(1 << 20), session.id) == (2, state)


def test_another_users_session_is_not_found(fake_db, cache, session):
    with pytest.raises(NotFound):
        read(fake_db, cache, session.id, owner="богдан")


def test_replayed_refuses_what_the_log_should_never_hold():
    with pytest.raises(ValueError, match="whole-state change after the newest checkpoint"):
        states.replayed({"а": 1}, None)
    with pytest.raises(ValueError, match="does not apply again"):
        states.replayed({"а": 1}, '[{"op":"test","path":"/а","value":2}]'.encode())
    assert states.replayed({"а": 1}, '[{"op":"add","path":"/б","value":"ґ"}]'.encode()) == {
        "а": 1,
        "б": "ґ",
    }


def test_time_is_read_from_the_clock_given(fake_db, cache, clock, session):
    clock.now += dt.timedelta(hours=3)
    written = write(fake_db, cache, clock, session.id, add("а", 1))
    assert written.updated_at == clock.now
    assert fake_db.tables.sessions[session.id].updated_at == clock.now


def test_a_load_that_meets_a_gap_in_the_log_reads_again_and_never_serves_it(
    fake_db, cache, clock, session
):
    """A compaction between a load's two reads (the checkpoint, then the changes after it)
    shows as a gap: the load reads again; a gap that stays is 503, never a wrong state."""
    for n in range(3):
        write(fake_db, cache, clock, session.id, add(f"ключ{n}", n))
    with fake_db.lock:
        del fake_db.committed.changes[(session.id, 2)]
    with pytest.raises(DatabaseUnavailable):
        read(fake_db, StateCache(1 << 20), session.id)


def test_a_keyed_write_that_cannot_rebuild_its_state_answers_the_fault_without_a_lookup(
    fake_db, cache, clock, session, monkeypatch
):
    """A state that cannot be rebuilt may have broken the transaction (PostgreSQL aborts
    it): the fault is the answer, and no key is looked up in that transaction."""

    def cannot(*args, **kwargs):
        raise ServerFault("the log does not replay")

    def no_lookup(*args, **kwargs):
        raise AssertionError("a key looked up in a broken transaction")

    monkeypatch.setattr(writes, "materialized", cannot)
    monkeypatch.setattr(writes, "answered", no_lookup)
    request = writes.Write(
        "олена", session.id, from_headers("*", None), add("а", 1), keyed=Keyed("ключ", "ї")
    )
    with pytest.raises(ServerFault):
        writes.write(fake_db.unit_of_work(), cache, request, clock=clock, kept=KEPT)
