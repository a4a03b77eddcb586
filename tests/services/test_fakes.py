"""The in-memory unit of work behaves as solo/db does: one scenario of writes, keys,
checkpoints, compaction and a delete through the services, on the fake and on each real
database, leaves the same rows. The fast service tests rely on it."""

import dataclasses
import datetime as dt
import uuid

import pytest

from solo.dependencies import Dependencies
from solo.domain import jsonvalue
from solo.domain.errors import QuotaExceeded
from solo.domain.model import KeptLog, LoggedChange, Patch, Replace, Session
from solo.domain.preconditions import from_headers
from solo.domain.quotas import Quotas, Usage
from solo.runtime.state_cache import StateCache
from solo.services import quota, sessions, writes
from solo.services.idempotency import Keyed
from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES
from tests.support.clock import START, FakeClock
from tests.support.fakes import Announcement, FakeDatabase

KEPT = KeptLog(changes=4, bytes=6_000)
"""Small enough that both cuts (by count and by bytes) happen within the scenario."""


def scenario(database, cache: StateCache, clock: FakeClock) -> tuple[uuid.UUID, uuid.UUID]:
    """Writes of every kind through the services; the ids of the session kept and of the
    one deleted."""

    def tick():
        """The next second: each service call reads the clock a different number of
        times on each database (PostgreSQL's one-statement swap, SQLite's locked path)."""
        clock.now += dt.timedelta(seconds=1)
        return clock

    made = sessions.create_session(
        database.unit_of_work(),
        cache,
        owner="олена",
        state={"назва": "чернетка"},
        clock=tick(),
        keyed=Keyed("створення", "відбиток-1"),
    )
    session_id = made.session.id
    for n in range(14):
        text = chr(0x0430 + n) * (50 if n % 3 else 900)  # every third is big: a checkpoint
        change = Patch([{"op": "add", "path": f"/абзац{n % 5}", "value": text}])
        if n == 9:
            state = {"замінено": "цілком", "номер": n}
            change = Replace(state, jsonvalue.encode(state))
        keyed = Keyed(f"ключ-{n}", f"відбиток-{n}") if n % 4 == 0 else None
        writes.write(
            database.unit_of_work(),
            cache,
            writes.Write("олена", session_id, from_headers("*", None), change, keyed=keyed),
            clock=tick(),
            kept=KEPT,
        )
    gone = sessions.create_session(
        database.unit_of_work(), cache, owner="олена", state={"на": "видалення"}, clock=tick()
    ).session.id
    sessions.delete_session(
        database.unit_of_work(),
        cache,
        owner="олена",
        session_id=gone,
        precondition=from_headers('"0"', None),
        clock=tick(),
        keyed=Keyed("видалення", "відбиток-в"),
    )
    return session_id, gone


def rows(database, session_id: uuid.UUID, gone: uuid.UUID, clock: FakeClock) -> dict:
    """What the ports say about the scenario's rows, ids left out (they are random)."""
    with database.unit_of_work() as uow:
        head = uow.sessions.get("олена", session_id)
        assert head is not None
        return {
            "head": dataclasses.replace(head, id=uuid.UUID(int=0)),
            "gone": uow.sessions.get("олена", gone),
            "changes": uow.log.changes(session_id, -1, head.rev),
            "sizes": uow.log.sizes(session_id, -1, head.rev, 100),
            "revisions": uow.log.revisions(session_id, -1, head.rev),
            "oldest_kept": uow.log.oldest_kept(session_id),
            "checkpoints": {
                rev: uow.log.checkpoint(session_id, rev) for rev in range(head.rev + 1)
            },
            "newest_checkpoint": [
                uow.log.newest_checkpoint(session_id, rev) for rev in range(head.rev + 1)
            ],
            "keys": {
                key: uow.idempotency.get("олена", key, now=clock.now)
                for key in ["створення", "видалення", *(f"ключ-{n}" for n in range(0, 14, 4))]
            },
            "usage": uow.usage.of("олена"),
            "deletions": uow.deletions.due(clock.now + dt.timedelta(days=1), 10),
        }


def test_the_fake_keeps_the_rows_the_real_databases_keep(deps):
    real_clock, fake_clock = FakeClock(), FakeClock()
    real = rows(deps.database, *scenario(deps.database, deps.states, real_clock), real_clock)
    fake_db = FakeDatabase(one_statement_swaps=deps.database.unit_of_work().swaps_in_one_statement)
    fake = rows(fake_db, *scenario(fake_db, StateCache(1 << 26), fake_clock), fake_clock)
    real["deletions"] = [(prefix.split("/")[1], at) for prefix, at in real["deletions"]]
    fake["deletions"] = [(prefix.split("/")[1], at) for prefix, at in fake["deletions"]]
    assert fake == real
    # The scenario did reach what it is for: both cuts, a kept whole state, forgotten keys.
    assert real["oldest_kept"] > 4 and real["head"].rev == 14
    assert real["keys"]["ключ-0"] is None and real["keys"]["ключ-12"] is not None


def test_leaving_a_write_without_commit_rolls_it_back(fake_db, cache, clock):
    session = sessions.create_session(
        fake_db.unit_of_work(), cache, owner="олена", state={"а": 1}, clock=clock
    ).session
    uow = fake_db.unit_of_work()
    with uow.write():
        moved = dataclasses.replace(session, rev=1)
        assert uow.sessions.advance(session, moved)
        assert uow.sessions.get("олена", session.id) == moved
        with fake_db.unit_of_work() as reader:
            assert reader.sessions.get("олена", session.id) == session  # not yet committed
    with uow:
        assert uow.sessions.get("олена", session.id) == session
    with uow.write():
        assert uow.sessions.advance(session, moved)
        assert not uow.sessions.advance(session, moved)  # the compare-and-swap
        uow.commit()
    with uow:
        assert uow.sessions.get("олена", session.id) == moved


def test_a_refused_charge_changes_nothing_and_a_repository_lives_in_a_transaction(clock):
    fake_db = FakeDatabase(Quotas(sessions=1, bytes=100))
    uow = fake_db.unit_of_work()
    with uow.write():
        uow.usage.open("олена")
        assert uow.usage.charge("олена", sessions=1, bytes=60)
        assert not uow.usage.charge("олена", bytes=41)
        assert uow.usage.charge("олена", bytes=-60)
        uow.commit()
    with uow:
        assert uow.usage.of("олена") == Usage(1, 0)
    with uow.write(), pytest.raises(QuotaExceeded) as exceeded:
        quota.admit(uow, owner="олена", sessions=1)
    assert (exceeded.value.quota, exceeded.value.limit, exceeded.value.used) == ("sessions", 1, 1)
    with pytest.raises(RuntimeError, match="outside a transaction"):
        _ = uow.sessions


def test_one_statement_swaps_log_charge_and_announce_as_postgresql_does(cache, clock):
    fake_db = FakeDatabase(one_statement_swaps=True)
    session = sessions.create_session(
        fake_db.unit_of_work(),
        cache,
        owner="олена",
        state={"а": "б", "текст": "ї" * 200},
        clock=clock,
    ).session
    with fake_db.unit_of_work().write() as uow:
        uow.sessions.watch([session.id], clock.now + dt.timedelta(minutes=1))
        uow.commit()
    written = writes.write(
        fake_db.unit_of_work(),
        cache,
        writes.Write(
            "олена",
            session.id,
            from_headers('"0"', None),
            Patch([{"op": "add", "path": "/в", "value": "ґ"}]),
        ),
        clock=clock,
        kept=KeptLog(1000, 1 << 20),
    )
    ops = '[{"op":"add","path":"/в","value":"ґ"}]'.encode()
    assert written == writes.Written(
        1, clock.now, {"rev": 1, "updated_at": clock.stamp}, logged=ops
    )
    tables = fake_db.tables
    assert tables.announcements == [Announcement(session.id, 1, clock.now, ops)]
    assert tables.usage["олена"] == Usage(1, session.size + len(',"в":"ґ"'.encode()))
    head = tables.sessions[session.id]
    assert isinstance(head, Session) and (head.rev, head.checkpoint_rev) == (1, 0)


def lost_swap(database, cache: StateCache, clock: FakeClock, *, whole_state_at_2: bool):
    """Two writes that the head of rev 0 misses (the second a whole state, or not), then a
    swap from that head: what it found, ids left out."""
    state = {"а": "б", "текст": "ї" * 2000}  # big enough that these patches checkpoint nothing
    stale = sessions.create_session(
        database.unit_of_work(), cache, owner="олена", state=state, clock=clock
    ).session
    second: Patch | Replace = Patch([{"op": "add", "path": "/г", "value": "ґ"}])
    if whole_state_at_2:
        second = Replace({"ціле": 2}, jsonvalue.encode({"ціле": 2}))
    for change in (Patch([{"op": "add", "path": "/в", "value": "д"}]), second):
        clock.now += dt.timedelta(seconds=1)
        writes.write(
            database.unit_of_work(),
            cache,
            writes.Write("олена", stale.id, from_headers("*", None), change),
            clock=clock,
            kept=KeptLog(1000, 1 << 20),
        )
    moved = dataclasses.replace(stale, rev=1, updated_at=clock.now)
    swap = database.unit_of_work().advance_and_log(stale, moved, b"[]")
    assert swap.found is not None
    return dataclasses.replace(swap, found=dataclasses.replace(swap.found, id=uuid.UUID(int=0)))


@pytest.mark.parametrize("whole_state_at_2", [False, True])
def test_a_lost_one_statement_swap_finds_what_postgresql_finds(
    postgres_database_url, tmp_path, whole_state_at_2
):
    settings = Settings(
        database_url=postgres_database_url,
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
    )
    deps = Dependencies.build(settings)
    try:
        real = lost_swap(deps.database, deps.states, FakeClock(), whole_state_at_2=whole_state_at_2)
    finally:
        deps.close()
    fake_db = FakeDatabase(one_statement_swaps=True)
    fake = lost_swap(fake_db, StateCache(1 << 26), FakeClock(), whole_state_at_2=whole_state_at_2)
    assert fake == real
    at = [START + dt.timedelta(seconds=n) for n in (1, 2)]
    missed = (
        LoggedChange(1, at[0], '[{"op":"add","path":"/в","value":"д"}]'.encode()),
        LoggedChange(2, at[1], '[{"op":"add","path":"/г","value":"ґ"}]'.encode()),
    )
    assert (real.swapped, real.found.rev, real.missed) == (
        False,
        2,
        () if whole_state_at_2 else missed,
    )
