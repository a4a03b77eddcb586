"""Sessions: create, read, list and delete."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any

from solo import limits
from solo.domain import jsonvalue
from solo.domain.errors import (
    DatabaseUnavailable,
    IdempotencyInProgress,
    InvalidParameter,
    StateTooLarge,
)
from solo.domain.keys import session_prefix
from solo.domain.model import Clock, PageCursor, Session, StoredIdempotencyKey
from solo.domain.preconditions import Precondition
from solo.runtime.state_cache import StateCache
from solo.services import quota
from solo.services.cleanup import settled
from solo.services.idempotency import Keyed, answered, delete_expires
from solo.services.ownership import owned
from solo.services.ports import UnitOfWork
from solo.services.states import READ_ATTEMPTS, LogMovedOn, encoded_state


@dataclasses.dataclass(frozen=True)
class SessionPage:
    items: list[Session]
    next_cursor: str | None


@dataclasses.dataclass(frozen=True)
class Created:
    """A session as it was created, its state's JSON at rev 0, and whether this answer
    replays an earlier create made with the same key."""

    session: Session
    state: bytes
    replayed: bool = False


def create_session(
    uow: UnitOfWork,
    cache: StateCache,
    *,
    owner: str,
    state: dict[str, Any],
    clock: Clock,
    keyed: Keyed | None = None,
) -> Created:
    """A new session at rev 0 holding `state` (or, for a key whose create was applied, that
    session as it was created).

    `state` is handed over: the process cache keeps it and later writes change it.
    """
    encoded = jsonvalue.encode(state)
    if len(encoded) > limits.STATE_SIZE_LIMIT:
        raise StateTooLarge(limits.STATE_SIZE_LIMIT)
    for _attempt in range(2):
        with uow.write():
            stored = answered(uow, owner, keyed, clock())
            if stored is not None:
                return _created_before(uow, owner, stored)
            session = _new_session(owner, len(encoded), clock())
            quota.admit_session(uow, owner=owner, state_bytes=session.size)
            uow.sessions.add(session, encoded)
            if not _keyed(uow, owner, keyed, session):
                continue  # taken meanwhile: rolled back, and replayed the second time
            uow.commit()
        entry = cache.entry(session.id)
        with entry.lock:
            cache.hold(entry, session, state)
            cache.hold_encoded(entry, session.rev, encoded)
        return Created(session, encoded)
    raise IdempotencyInProgress()


def _new_session(owner: str, size: int, now: dt.datetime) -> Session:
    return Session(
        id=uuid.uuid4(),
        owner=owner,
        rev=0,
        size=size,
        created_at=now,
        updated_at=now,
        last_seen_at=None,
        checkpoint_rev=0,
        replay_cost=0,
        kept_bytes=size,
    )


def _keyed(uow: UnitOfWork, owner: str, keyed: Keyed | None, session: Session) -> bool:
    if keyed is None:
        return True
    return uow.idempotency.record(
        owner,
        keyed.key,
        keyed.fingerprint,
        status_code=201,
        body={"id": str(session.id)},
        session_id=session.id,
        rev=0,
        now=session.created_at,
    )


def _created_before(uow: UnitOfWork, owner: str, stored: StoredIdempotencyKey) -> Created:
    """The session a replayed create made, as it was then: its key lives as long as rev
    0's checkpoint (compaction forgets both together)."""
    assert isinstance(stored.body, dict)
    session = owned(uow, owner=owner, session_id=uuid.UUID(stored.body["id"]))
    state = uow.log.checkpoint(session.id, 0)
    assert state is not None
    created = dataclasses.replace(
        session, rev=0, size=len(state), updated_at=session.created_at, last_seen_at=None
    )
    return Created(created, state, replayed=True)


def get_session(
    uow: UnitOfWork,
    cache: StateCache,
    *,
    owner: str,
    session_id: uuid.UUID,
    unless: Callable[[int], bool] = lambda rev: False,
) -> tuple[Session, bytes | None]:
    """The session and its state's JSON; no state when `unless(rev)` (the client has it)."""
    for _attempt in range(READ_ATTEMPTS):
        with uow:
            session = owned(uow, owner=owner, session_id=session_id)
            if unless(session.rev):
                return session, None
            try:
                return session, encoded_state(uow, cache, session)
            except LogMovedOn:
                continue
    raise DatabaseUnavailable("the log moved on under every read")


def ensure_exists(uow: UnitOfWork, *, owner: str, session_id: uuid.UUID) -> None:
    with uow:
        owned(uow, owner=owner, session_id=session_id)


def list_sessions(uow: UnitOfWork, *, owner: str, cursor: str | None, limit: int) -> SessionPage:
    after = decode_cursor(cursor) if cursor is not None else None
    with uow:
        rows = uow.sessions.list_page(owner, after, limit + 1)
    items = rows[:limit]
    return SessionPage(items, encode_cursor(items[-1]) if len(rows) > limit else None)


@dataclasses.dataclass(frozen=True)
class Deleted:
    """The prefix of the deleted session's snapshot objects, for the caller to remove now;
    None when this answer replays an earlier delete made with the same key."""

    prefix: str | None


def delete_session(
    uow: UnitOfWork,
    cache: StateCache,
    *,
    owner: str,
    session_id: uuid.UUID,
    precondition: Precondition,
    clock: Clock,
    keyed: Keyed | None = None,
) -> Deleted:
    """Delete the session with everything it owns in the database (cascade), and record
    that its snapshot objects must go (the sweep removes them again once in-flight
    snapshots have settled, and until the store answers: no object outlives its session).
    The key, if any, is kept IDEMPOTENCY_DELETE_TTL_SECONDS, the session gone."""
    prefix = session_prefix(owner, str(session_id))
    for _attempt in range(2):
        with uow.write():
            if answered(uow, owner, keyed, clock()) is not None:
                return Deleted(None)
            current = owned(uow, owner=owner, session_id=session_id, for_update=True)
            precondition.check(current.rev)
            quota.release_session(uow, current)
            uow.sessions.delete(owner, session_id, current.rev)
            now = clock()
            uow.deletions.add(prefix, not_before=settled(now))
            if current.watched(now):
                uow.log.announce_deletion(session_id)
            if keyed is not None:
                uow.idempotency.purge_expired(now)
                recorded = uow.idempotency.record(
                    owner,
                    keyed.key,
                    keyed.fingerprint,
                    status_code=204,
                    body=None,
                    expires_at=delete_expires(now),
                    now=now,
                )
                if not recorded:
                    continue  # taken meanwhile: rolled back, and replayed the second time
            uow.commit()
        cache.discard(session_id)
        return Deleted(prefix)
    raise IdempotencyInProgress()


def encode_cursor(last: Session) -> str:
    raw = json.dumps([last.created_at.isoformat(), str(last.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> PageCursor:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, last_id = json.loads(base64.urlsafe_b64decode(padded))
        position = PageCursor(dt.datetime.fromisoformat(created_at), uuid.UUID(last_id))
        if position.created_at.tzinfo is None:
            raise ValueError("naive")
        position.created_at.astimezone(dt.UTC)
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise InvalidParameter("cursor is not one this server issued", field="cursor") from None
    return position
