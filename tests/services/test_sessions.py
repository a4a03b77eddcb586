"""Sessions' create, read, list and delete, on the in-memory unit of work."""

import dataclasses
import datetime as dt
import uuid

import pytest

from solo import limits
from solo.domain import jsonvalue
from solo.domain.errors import (
    IdempotencyKeyReused,
    InvalidParameter,
    NotFound,
    PreconditionFailed,
    QuotaExceeded,
    Reason,
    StateTooLarge,
)
from solo.domain.keys import session_prefix
from solo.domain.model import KeptLog, PageCursor, Patch, Session, SnapshotClaim, StoredSnapshot
from solo.domain.preconditions import from_headers
from solo.domain.quotas import Quotas, Usage
from solo.services import idempotency, sessions, writes
from solo.services.idempotency import Keyed
from tests.support.clock import START
from tests.support.fakes import Announcement, DeletionRow, FakeDatabase

STATE = {"назва": "Чернетка", "абзаци": ["перший", "другий"], "ціна": 1.5}
ENCODED = jsonvalue.encode(STATE)
KEPT = KeptLog(changes=1000, bytes=32 * limits.MIB)


def create(fake_db, cache, clock, state=None, owner="олена", keyed=None):
    return sessions.create_session(
        fake_db.unit_of_work(),
        cache,
        owner=owner,
        state=dict(STATE) if state is None else state,
        clock=clock,
        keyed=keyed,
    )


def patch(fake_db, cache, clock, session_id, key, value):
    ops = [{"op": "add", "path": f"/{key}", "value": value}]
    request = writes.Write("олена", session_id, from_headers("*", None), Patch(ops))
    return writes.write(fake_db.unit_of_work(), cache, request, clock=clock, kept=KEPT)


def new_session(session_id, owner="олена", at=START) -> Session:
    size = len(ENCODED)
    return Session(
        id=session_id,
        owner=owner,
        rev=0,
        size=size,
        created_at=at,
        updated_at=at,
        last_seen_at=None,
        checkpoint_rev=0,
        replay_cost=0,
        kept_bytes=size,
    )


def test_a_created_session_is_at_rev_0_with_its_state_stored_cached_and_counted(
    fake_db, cache, clock
):
    created = create(fake_db, cache, clock)
    session_id = created.session.id
    assert created == sessions.Created(new_session(session_id), ENCODED)
    tables = fake_db.tables
    assert tables.sessions == {session_id: new_session(session_id)}
    assert tables.checkpoints == {(session_id, 0): ENCODED}
    assert tables.usage == {"олена": Usage(sessions=1, bytes=len(ENCODED))}
    entry = cache.entry(session_id)
    assert (entry.head, entry.state, entry.encoded) == (created.session, STATE, (0, ENCODED))


def test_a_state_past_the_limit_is_refused_before_anything_is_stored(
    fake_db, cache, clock, monkeypatch
):
    monkeypatch.setattr(limits, "STATE_SIZE_LIMIT", len(ENCODED) - 1)
    with pytest.raises(StateTooLarge) as refused:
        create(fake_db, cache, clock)
    assert refused.value.limit == len(ENCODED) - 1
    assert fake_db.tables.sessions == {} and fake_db.commits == 0


@pytest.mark.parametrize(
    ("quotas", "expected"),
    [
        (Quotas(sessions=1, bytes=1000), ("sessions", 1, 1)),
        (Quotas(sessions=5, bytes=len(ENCODED) + 10), ("bytes", len(ENCODED) + 10, len(ENCODED))),
    ],
)
def test_a_create_past_a_quota_is_refused_and_stores_nothing(cache, clock, quotas, expected):
    fake_db = FakeDatabase(quotas)
    first = create(fake_db, cache, clock).session
    with pytest.raises(QuotaExceeded) as refused:
        create(fake_db, cache, clock)
    assert (refused.value.quota, refused.value.limit, refused.value.used) == expected
    assert list(fake_db.tables.sessions) == [first.id]
    assert fake_db.tables.usage == {"олена": Usage(1, len(ENCODED))}


def test_a_keyed_create_replays_the_session_as_it_was_created(fake_db, cache, clock):
    keyed = Keyed("ключ-створення", "відбиток")
    created = create(fake_db, cache, clock, keyed=keyed)
    clock.now += dt.timedelta(seconds=30)
    patch(fake_db, cache, clock, created.session.id, "нове", "значення")
    again = create(fake_db, cache, clock, state={"інший": "стан"}, keyed=keyed)
    head = fake_db.tables.sessions[created.session.id]
    assert head.rev == 1
    # rev 0 as it was (its state from rev 0's checkpoint); the log's bookkeeping is the head's.
    as_created = dataclasses.replace(head, rev=0, size=len(ENCODED), updated_at=START)
    assert again == sessions.Created(as_created, ENCODED, replayed=True)
    assert len(fake_db.tables.sessions) == 1
    with pytest.raises(IdempotencyKeyReused):
        create(fake_db, cache, clock, keyed=Keyed("ключ-створення", "інший відбиток"))


def test_a_key_taken_meanwhile_rolls_the_create_back_and_replays_the_other(
    fake_db, cache, clock, monkeypatch
):
    keyed = Keyed("ключ", "відбиток")
    other = create(fake_db, cache, clock, owner="олена", keyed=keyed).session
    # Another process recorded the key after this create looked for it.
    answered = iter([None])
    monkeypatch.setattr(
        sessions, "answered", lambda *args: next(answered, None) or idempotency.answered(*args)
    )
    again = create(fake_db, cache, clock, state={"б": 2}, keyed=keyed)
    assert again == sessions.Created(other, ENCODED, replayed=True)
    assert list(fake_db.tables.sessions) == [other.id]
    assert fake_db.tables.usage["олена"] == Usage(1, len(ENCODED))


def test_get_answers_the_state_unless_the_client_has_its_rev(fake_db, cache, clock):
    session = create(fake_db, cache, clock).session
    patch(fake_db, cache, clock, session.id, "ґанок", "є")
    cache.discard(session.id)
    head, state = sessions.get_session(
        fake_db.unit_of_work(), cache, owner="олена", session_id=session.id
    )
    expected = {**STATE, "ґанок": "є"}
    assert (head.rev, state) == (1, jsonvalue.encode(expected))
    assert sessions.get_session(
        fake_db.unit_of_work(), cache, owner="олена", session_id=session.id, unless=(1).__eq__
    ) == (head, None)
    with pytest.raises(NotFound):
        sessions.get_session(fake_db.unit_of_work(), cache, owner="богдан", session_id=session.id)
    with pytest.raises(NotFound):
        sessions.ensure_exists(fake_db.unit_of_work(), owner="олена", session_id=uuid.uuid4())
    sessions.ensure_exists(fake_db.unit_of_work(), owner="олена", session_id=session.id)


def test_the_list_pages_newest_first_through_opaque_cursors(fake_db, cache, clock):
    made = []
    for n in range(5):
        clock.now = START + dt.timedelta(minutes=n // 2)  # two share each minute
        made.append(create(fake_db, cache, clock, state={"номер": n}).session)
    create(fake_db, cache, clock, owner="богдан")
    newest_first = sorted(made, key=lambda s: (s.created_at, s.id), reverse=True)
    pages, cursor = [], None
    while True:
        page = sessions.list_sessions(fake_db.unit_of_work(), owner="олена", cursor=cursor, limit=2)
        pages.append(page.items)
        if page.next_cursor is None:
            break
        assert page.next_cursor == sessions.encode_cursor(page.items[-1])
        assert sessions.decode_cursor(page.next_cursor) == PageCursor(
            page.items[-1].created_at, page.items[-1].id
        )
        cursor = page.next_cursor
    assert pages == [newest_first[0:2], newest_first[2:4], newest_first[4:]]


@pytest.mark.parametrize(
    "cursor", ["не-курсор", "WyIyMDI2LTExLTI2VDA5OjAwOjAwIiwgIngiXQ", "WyIyMDI2LTExLTI2IiwgIjEiXQ"]
)
def test_a_cursor_this_server_did_not_issue_is_an_invalid_parameter(fake_db, cursor):
    with pytest.raises(InvalidParameter) as refused:
        sessions.list_sessions(fake_db.unit_of_work(), owner="олена", cursor=cursor, limit=2)
    assert (refused.value.field, refused.value.message) == (
        "cursor",
        "cursor is not one this server issued",
    )


def delete(fake_db, cache, clock, session_id, if_match='"0"', keyed=None, owner="олена"):
    return sessions.delete_session(
        fake_db.unit_of_work(),
        cache,
        owner=owner,
        session_id=session_id,
        precondition=from_headers(if_match, None),
        clock=clock,
        keyed=keyed,
    )


def test_a_delete_takes_everything_the_session_owns_and_gives_its_bytes_back(fake_db, cache, clock):
    session = create(fake_db, cache, clock).session
    keep = create(fake_db, cache, clock, state={"лишається": True}).session
    snapshot = StoredSnapshot(0, "solo/олена/x/0.json", 321, START)
    with fake_db.unit_of_work().write() as uow:
        uow.usage.charge("олена", bytes=321)
        uow.snapshots.claim(session.id, snapshot, "токен")
        uow.snapshots.complete(SnapshotClaim(session.id, snapshot, "токен", "олена"))
        uow.retention.due_at(session.id, START)
        uow.commit()
    clock.now += dt.timedelta(seconds=5)
    deleted = delete(fake_db, cache, clock, session.id)
    prefix = session_prefix("олена", str(session.id))
    assert deleted == sessions.Deleted(prefix)
    tables = fake_db.tables
    assert list(tables.sessions) == [keep.id]
    assert tables.snapshots == {} and tables.retention == {}
    assert [k for k in tables.checkpoints if k[0] == session.id] == []
    assert tables.usage["олена"] == Usage(1, keep.size)
    settled = clock.now + dt.timedelta(seconds=limits.SNAPSHOT_SETTLE_SECONDS)
    assert tables.deletions == {prefix: DeletionRow(settled, 0)}
    assert tables.announcements == []  # nobody watched it
    assert session.id not in cache._entries


def test_a_delete_is_conditional_scoped_to_its_owner_and_announced_when_watched(
    fake_db, cache, clock
):
    session = create(fake_db, cache, clock).session
    with pytest.raises(PreconditionFailed) as refused:
        delete(fake_db, cache, clock, session.id, if_match='"7"')
    assert (refused.value.reason, refused.value.current_rev) == (Reason.MISMATCH, 0)
    with pytest.raises(NotFound):
        delete(fake_db, cache, clock, session.id, owner="богдан")
    with fake_db.unit_of_work().write() as uow:
        uow.sessions.watch([session.id], clock.now + dt.timedelta(seconds=1))
        uow.commit()
    delete(fake_db, cache, clock, session.id)
    gone = dt.datetime.min.replace(tzinfo=dt.UTC)
    assert fake_db.tables.announcements == [Announcement(session.id, -1, gone, None)]


def test_a_keyed_delete_replays_for_a_day_then_the_session_is_simply_gone(fake_db, cache, clock):
    session = create(fake_db, cache, clock).session
    keyed = Keyed("ключ-видалення", "відбиток")
    assert delete(fake_db, cache, clock, session.id, keyed=keyed).prefix is not None
    clock.now += dt.timedelta(seconds=limits.IDEMPOTENCY_DELETE_TTL_SECONDS - 1)
    assert delete(fake_db, cache, clock, session.id, keyed=keyed) == sessions.Deleted(None)
    clock.now += dt.timedelta(seconds=1)
    with pytest.raises(NotFound):
        delete(fake_db, cache, clock, session.id, keyed=keyed)
    with fake_db.unit_of_work() as uow:
        assert uow.idempotency.get("олена", keyed.key, now=clock.now) is None
