"""The write path against the real databases: compare-and-swap, log, checkpoints, cache."""

import concurrent.futures
import contextlib
import copy
import datetime as dt
import threading
import uuid
from unittest import mock

import psycopg
import pytest
import sqlalchemy as sa

from solo import limits
from solo.dependencies import Dependencies
from solo.domain import jsonvalue
from solo.domain.errors import (
    ChangesCompacted,
    InvalidOps,
    NotFound,
    PreconditionFailed,
    RevMismatch,
    StateTooLarge,
)
from solo.domain.model import KeptLog, Patch, Replace, Revision
from solo.domain.preconditions import from_headers
from solo.services import sessions, writes
from solo.services.idempotency import Keyed

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
START = {"почато": 1, "список": ["а", "б"]}


def fixed_clock():
    return T0


def add(key, value) -> Patch:
    return Patch([{"op": "add", "path": f"/{key}", "value": value}])


def write(deps, change, if_match="*", x_rev=None, owner="олена", session_id=None, kept=1000):
    written = writes.write(
        deps.database.unit_of_work(),
        deps.states,
        writes.Write(owner, session_id, from_headers(if_match, x_rev), change),
        clock=fixed_clock,
        kept=KeptLog(changes=kept, bytes=limits.CHANGES_KEPT_MB * limits.MIB),
    )
    return Revision(written.rev, written.updated_at)


def read(deps, session_id, owner="олена"):
    session, state = sessions.get_session(
        deps.database.unit_of_work(), deps.states, owner=owner, session_id=session_id
    )
    return session, jsonvalue.decode(state)[0]


@pytest.fixture
def session_id(deps):
    session = sessions.create_session(
        deps.database.unit_of_work(),
        deps.states,
        owner="олена",
        state=copy.deepcopy(START),
        clock=fixed_clock,
    ).session
    return session.id


@pytest.fixture
def other_process(settings):
    """A second set of dependencies on the same database: another process's cache."""
    built = Dependencies.build(settings)
    yield built
    built.close()


def test_a_stale_compare_and_swap_writes_nothing(deps, session_id):
    with deps.database.unit_of_work().write() as uow:
        current = uow.sessions.get("олена", session_id)
        moved = current.__class__(**{**current.__dict__, "rev": current.next_rev()})
        assert uow.sessions.advance(current, moved)
        assert not uow.sessions.advance(current, moved)
        uow.commit()
    with deps.database.unit_of_work() as uow:
        assert uow.sessions.get("олена", session_id).rev == 1


def test_a_write_answers_the_new_revision_and_the_state_follows(deps, session_id):
    assert write(deps, add("нове", "значення"), '"0"', session_id=session_id) == Revision(1, T0)
    session, state = read(deps, session_id)
    assert (session.rev, session.updated_at, state) == (1, T0, {**START, "нове": "значення"})
    assert session.size == len(jsonvalue.encode(state))


def test_a_stale_etag_is_412_and_a_stale_x_rev_409(deps, session_id):
    write(deps, add("перше", 1), session_id=session_id)
    with pytest.raises(PreconditionFailed) as failed:
        write(deps, add("друге", 2), '"0"', session_id=session_id)
    assert (failed.value.reason, failed.value.current_rev) == ("mismatch", 1)
    with pytest.raises(RevMismatch) as mismatched:
        write(deps, add("друге", 2), None, "0", session_id=session_id)
    assert mismatched.value.server_rev == 1


def test_writers_racing_on_one_etag_exactly_one_wins(deps, other_process, session_id):
    barrier = threading.Barrier(8)

    def race(index: int) -> str:
        process = (deps, other_process)[index % 2]
        barrier.wait()
        try:
            write(process, add(f"письменник{index}", index), '"0"', session_id=session_id)
        except PreconditionFailed:
            return "412"
        return "200"

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = sorted(pool.map(race, range(8)))
    assert answers == ["200"] + ["412"] * 7
    session, state = read(deps, session_id)
    assert session.rev == 1
    assert len(state) == len(START) + 1


def test_if_match_any_never_fails_for_a_session_that_exists(deps, other_process, session_id):
    def writer(index: int) -> list[int]:
        process = (deps, other_process)[index % 2]
        return [
            write(process, add(f"w{index}-{n}", n), session_id=session_id).rev for n in range(10)
        ]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        revs = [rev for batch in pool.map(writer, range(8)) for rev in batch]
    assert sorted(revs) == list(range(1, 81))
    for process in (deps, other_process):
        session, state = read(process, session_id)
        assert session.rev == 80
        assert set(state) == set(START) | {f"w{i}-{n}" for i in range(8) for n in range(10)}


def test_each_process_catches_up_with_what_the_other_wrote(deps, other_process, session_id):
    write(deps, add("а", 1), '"0"', session_id=session_id)
    assert read(other_process, session_id)[1] == {**START, "а": 1}
    write(other_process, add("б", 2), '"1"', session_id=session_id)
    write(other_process, Patch([{"op": "remove", "path": "/список/0"}]), session_id=session_id)
    write(deps, add("в", 3), '"3"', session_id=session_id)
    expected = {"почато": 1, "список": ["б"], "а": 1, "б": 2, "в": 3}
    assert read(deps, session_id)[1] == expected
    assert read(other_process, session_id)[1] == expected


def test_a_swap_lost_to_another_process_catches_up_on_the_changes_it_brings(deps, other_process):
    # A state big enough that these changes make no checkpoint.
    big = {**copy.deepcopy(START), "текст": "ї" * 2000}
    session_id = sessions.create_session(
        deps.database.unit_of_work(), deps.states, owner="олена", state=big, clock=fixed_clock
    ).session.id
    write(deps, add("а", 1), session_id=session_id)
    write(other_process, add("б", 2), session_id=session_id)
    write(other_process, Patch([{"op": "remove", "path": "/список/0"}]), session_id=session_id)
    with statements(deps) as sent:
        assert write(deps, add("в", 3), session_id=session_id).rev == 4
    expected = {**big, "список": ["б"], "а": 1, "б": 2, "в": 3}
    assert (read(deps, session_id)[1], read(other_process, session_id)[1]) == (expected, expected)
    if deps.database.engine.dialect.name == "postgresql":
        # The swap lost, with the two changes it missed; the swap again: two round trips.
        assert [statement.split()[:3] for statement in sent] == [["--", "One", "statement,"]] * 2


def test_a_refused_patch_leaves_cache_and_database_as_they_were(deps, session_id):
    before = read(deps, session_id)
    ops = [
        {"op": "remove", "path": "/почато"},
        {"op": "add", "path": "/список/0", "value": "нульовий"},
        {"op": "test", "path": "/немає", "value": 1},
    ]
    with pytest.raises(InvalidOps) as refused:
        write(deps, Patch(ops), session_id=session_id)
    assert (refused.value.op_index, refused.value.reason) == (2, "'/немає' does not exist")
    after = read(deps, session_id)
    assert after == before
    assert jsonvalue.encode(after[1]) == jsonvalue.encode(START)


def test_a_state_that_would_grow_past_the_limit_is_refused(deps, session_id, monkeypatch):
    monkeypatch.setattr("solo.limits.STATE_SIZE_LIMIT", 100)
    with pytest.raises(StateTooLarge):
        write(deps, add("довге", "ж" * 40), session_id=session_id)
    assert read(deps, session_id) == (read(deps, session_id)[0], START)


def test_a_whole_state_replaces_and_becomes_a_checkpoint(deps, other_process, session_id):
    new = {"зовсім": ["нове"]}
    write(deps, Replace(new, jsonvalue.encode(new)), session_id=session_id)
    session, state = read(other_process, session_id)
    assert (session.rev, session.checkpoint_rev, session.replay_cost, state) == (1, 1, 0, new)


def test_a_patch_that_shifts_much_makes_a_checkpoint_so_no_reader_replays_it(deps):
    state = {"числа": list(range(100_000))}
    session = sessions.create_session(
        deps.database.unit_of_work(),
        deps.states,
        owner="олена",
        state=copy.deepcopy(state),
        clock=fixed_clock,
    ).session
    # 40 inserts at the front shift four million items: replaying that would cost far more
    # than loading the state (about 600 KB), though the ops themselves are 1.5 KB.
    ops = [{"op": "add", "path": "/числа/0", "value": n} for n in range(40)]
    write(deps, Patch(ops), session_id=session.id)
    head, _ = read(deps, session.id)
    assert (head.rev, head.checkpoint_rev, head.replay_cost) == (1, 1, 0)


def test_checkpoints_follow_the_log_and_compaction_keeps_what_was_asked(deps, settings, session_id):
    for n in range(40):
        write(deps, add(f"ключ{n % 3}", "x" * 20), session_id=session_id, kept=10)
    session, state = read(deps, session_id)
    assert session.rev == 40
    assert 0 < session.checkpoint_rev <= 40
    with deps.database.unit_of_work() as uow:
        kept = [change.rev for change in uow.log.changes(session_id, 0, 40)]
    assert kept == list(range(kept[0], 41))
    assert 10 <= len(kept) < 40, "the newest 10 are kept, and older ones were compacted"
    fresh = Dependencies.build(settings)
    try:
        assert read(fresh, session_id) == (session, state)
    finally:
        fresh.close()


def test_writing_a_missing_or_strangers_session_is_not_found(deps, session_id):
    with pytest.raises(NotFound):
        write(deps, add("а", 1), session_id=uuid.uuid4())
    with pytest.raises(NotFound):
        write(deps, add("а", 1), owner="тарас", session_id=session_id)


def delete(deps, session_id, if_match, owner="олена"):
    return sessions.delete_session(
        deps.database.unit_of_work(),
        deps.states,
        owner=owner,
        session_id=session_id,
        precondition=from_headers(if_match, None),
        clock=fixed_clock,
    )


def test_delete_is_scoped_to_the_owner_and_conditional(deps, session_id):
    with pytest.raises(NotFound):
        delete(deps, session_id, "*", owner="тарас")
    with pytest.raises(PreconditionFailed):
        delete(deps, session_id, '"5"')
    assert delete(deps, session_id, '"0"') == sessions.Deleted(f"solo/олена/{session_id}/")
    with pytest.raises(NotFound):
        read(deps, session_id)


def test_timestamps_round_trip_as_aware_utc(deps, session_id):
    session, _ = read(deps, session_id)
    assert session.created_at == T0
    assert session.created_at.tzinfo == dt.UTC


def test_a_patch_that_only_a_stale_cache_refuses_applies_to_the_real_head(deps, settings):
    """Another process moved the session on: a patch that fails on this process's cached
    state but applies to the database's head is applied, not refused."""
    other = Dependencies.build(settings)
    try:
        session = sessions.create_session(
            deps.database.unit_of_work(), deps.states, owner="олена", state={}, clock=fixed_clock
        ).session
        read(deps, session.id)
        write(other, add("абзац", "текст"), session_id=session.id)
        assert (
            write(deps, Patch([{"op": "remove", "path": "/абзац"}]), session_id=session.id).rev == 2
        )
        assert read(other, session.id)[1] == {}
    finally:
        other.close()


def test_the_log_keeps_each_patch_as_sent_though_later_ops_change_what_earlier_ones_added(
    deps, other_process
):
    """Ops that add a value and then change inside it: the log (what other processes, the
    change feed and restore replay) holds the ops as they were sent, not the values as the
    later ops left them. The state is large enough that neither write is a checkpoint."""
    filler = "ж" * 5000
    session = sessions.create_session(
        deps.database.unit_of_work(),
        deps.states,
        owner="олена",
        state={**START, "заповнення": filler},
        clock=fixed_clock,
    ).session
    grows = [
        {"op": "add", "path": "/об'єкт", "value": {"список": [1]}},
        {"op": "add", "path": "/об'єкт/список/-", "value": 2},
    ]
    shrinks = [
        {"op": "add", "path": "/пара", "value": {"ліво": 1, "право": 2}},
        {"op": "remove", "path": "/пара/право"},
        {"op": "replace", "path": "/почато", "value": {"глибоко": []}},
        {"op": "add", "path": "/почато/глибоко/0", "value": "ще"},
    ]
    assert read(other_process, session.id)[0].rev == 0
    write(deps, Patch(copy.deepcopy(grows)), '"0"', session_id=session.id)
    write(deps, Patch(copy.deepcopy(shrinks)), '"1"', session_id=session.id)
    expected = {
        "почато": {"глибоко": ["ще"]},
        "список": ["а", "б"],
        "заповнення": filler,
        "об'єкт": {"список": [1, 2]},
        "пара": {"ліво": 1},
    }
    with deps.database.unit_of_work() as uow:
        logged = uow.log.changes(session.id, 0, 2)
        checkpoint_rev = uow.sessions.get("олена", session.id).checkpoint_rev
    # As applied: the end of an array (`-`) as the index the item was added at.
    grown = [grows[0], {**grows[1], "path": "/об'єкт/список/1"}]
    assert [jsonvalue.decode_canonical(change.ops) for change in logged] == [grown, shrinks]
    assert checkpoint_rev == 0
    assert read(deps, session.id)[1] == expected
    assert read(other_process, session.id)[1] == expected


def rebased(deps, session_id, ops, base_rev, kept=1000, key=None):
    """A diff computed on `base_rev`, sent with `If-Match: *` (and a key) to be rebased."""
    return writes.write(
        deps.database.unit_of_work(),
        deps.states,
        writes.Write(
            "олена",
            session_id,
            from_headers("*", None),
            Patch(ops),
            keyed=None if key is None else Keyed(key, "відбиток"),
            base_rev=base_rev,
        ),
        clock=fixed_clock,
        kept=KeptLog(changes=kept, bytes=limits.CHANGES_KEPT_MB * limits.MIB),
    )


@contextlib.contextmanager
def statements(deps):
    """The SQL statements this process sends meanwhile: on PostgreSQL every one psycopg
    sends (solo.db.postgres_driver's included), on SQLite those sent through SQLAlchemy."""
    sent: list[str] = []
    if deps.database.engine.dialect.name == "postgresql":
        execute = psycopg.Cursor.execute

        def sending_psycopg(cursor, query, *args, **kwargs):
            sent.append(" ".join(str(query).split()))
            return execute(cursor, query, *args, **kwargs)

        with mock.patch.object(psycopg.Cursor, "execute", sending_psycopg):
            yield sent
        return

    def sending(conn, cursor, statement, parameters, context, executemany):
        sent.append(" ".join(statement.split()))

    engine = deps.database.engine
    sa.event.listen(engine, "before_cursor_execute", sending)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", sending)


def front(value) -> list[dict]:
    return [{"op": "add", "path": "/список/0", "value": value}]


def test_a_rebase_over_changes_this_process_made_reads_none_of_the_log(deps):
    # A state big enough that replaying these changes costs less than a new checkpoint.
    session_id = sessions.create_session(
        deps.database.unit_of_work(),
        deps.states,
        owner="олена",
        state={**copy.deepcopy(START), "текст": "ї" * 2000},
        clock=fixed_clock,
    ).session.id
    for value in ("в", "г"):
        write(deps, Patch(front(value)), session_id=session_id)
    with statements(deps) as sent:
        written = rebased(deps, session_id, [{"op": "remove", "path": "/список/1"}], 0, key="к1")
    assert (written.rev, written.body) == (
        3,
        {"rev": 3, "updated_at": "2026-11-26T08:00:00Z", "rebased_from": 0},
    )
    assert jsonvalue.decode(written.changes)[0] == [
        {"rev": 1, "at": "2026-11-26T08:00:00Z", "ops": front("в")},
        {"rev": 2, "at": "2026-11-26T08:00:00Z", "ops": front("г")},
        {"rev": 3, "at": "2026-11-26T08:00:00Z", "ops": [{"op": "remove", "path": "/список/3"}]},
    ]
    assert read(deps, session_id)[1]["список"] == ["г", "в", "а"]
    assert not [s for s in sent if s.startswith("SELECT") and " FROM changes" in s]
    if deps.database.engine.dialect.name == "postgresql":
        # The swap, its logged change and its key: one statement, one round trip.
        assert len(sent) == 1 and "INSERT INTO idempotency_keys" in sent[0]


def test_a_rebase_over_another_process_s_changes_moves_over_them(deps, other_process, session_id):
    write(deps, Patch(front("в")), session_id=session_id)
    write(other_process, Patch(front("г")), session_id=session_id)
    written = rebased(deps, session_id, [{"op": "replace", "path": "/список/1", "value": "б!"}], 1)
    assert (written.rev, written.body["rebased_from"]) == (3, 1)
    assert read(deps, session_id)[1]["список"] == ["г", "в", "б!", "б"]
    assert read(other_process, session_id)[1]["список"] == ["г", "в", "б!", "б"]


def test_a_base_the_log_no_longer_keeps_is_gone_though_this_process_made_its_changes(
    deps, session_id
):
    for n in range(40):
        write(deps, add(f"ключ{n % 3}", "x" * 20), session_id=session_id, kept=10)
    with deps.database.unit_of_work() as uow:
        oldest = uow.log.oldest_kept(session_id)
    assert 1 < oldest <= 31
    with pytest.raises(ChangesCompacted) as gone:
        rebased(deps, session_id, [{"op": "add", "path": "/нове", "value": 1}], oldest - 2, kept=10)
    assert gone.value.oldest_rev == oldest - 1
    written = rebased(deps, session_id, [{"op": "add", "path": "/нове", "value": 1}], oldest - 1)
    assert (written.rev, written.body["rebased_from"]) == (41, oldest - 1)


def test_a_base_only_another_process_has_seen_is_caught_up_to_and_rebased_over(
    deps, other_process, session_id
):
    write(deps, Patch(front("в")), session_id=session_id)
    write(other_process, Patch(front("г")), session_id=session_id)
    write(other_process, Patch(front("ґ")), session_id=session_id)
    written = rebased(deps, session_id, [{"op": "remove", "path": "/список/3"}], 2)
    assert (written.rev, written.body["rebased_from"]) == (4, 2)
    assert jsonvalue.decode(written.changes)[0] == [
        {"rev": 3, "at": "2026-11-26T08:00:00Z", "ops": front("ґ")},
        {"rev": 4, "at": "2026-11-26T08:00:00Z", "ops": [{"op": "remove", "path": "/список/4"}]},
    ]
    assert read(other_process, session_id)[1]["список"] == ["ґ", "г", "в", "а"]


def test_a_retry_whose_write_compacts_the_log_replays_and_applies_nothing_again(
    deps, session_id, monkeypatch
):
    """The retry's own write would compact the log and forget the keys of what it cuts,
    its own key among them: it looks its key up before, and replays."""
    monkeypatch.setattr(limits, "CHECKPOINT_MAX_CHANGES", 1)
    append = Patch([{"op": "add", "path": "/список/-", "value": "в"}])

    def keyed_append():
        return writes.write(
            deps.database.unit_of_work(),
            deps.states,
            writes.Write(
                "олена", session_id, from_headers("*", None), append, keyed=Keyed("к", "в")
            ),
            clock=fixed_clock,
            kept=KeptLog(changes=1, bytes=limits.CHANGES_KEPT_MB * limits.MIB),
        )

    first, again = keyed_append(), keyed_append()
    assert (first.rev, first.replayed, again.rev, again.replayed) == (1, False, 1, True)
    assert again.body == first.body == {"rev": 1, "updated_at": "2026-11-26T08:00:00Z"}
    assert read(deps, session_id)[1]["список"] == ["а", "б", "в"]
