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
from solo.domain.errors import DatabaseUnavailable, InvalidParameter, StateTooLarge
from solo.domain.keys import session_prefix
from solo.domain.model import Clock, PageCursor, Session
from solo.domain.preconditions import Precondition
from solo.runtime.state_cache import StateCache
from solo.services import quota
from solo.services.cleanup import settled
from solo.services.ownership import owned
from solo.services.ports import UnitOfWork
from solo.services.states import READ_ATTEMPTS, LogMovedOn, encoded_state


@dataclasses.dataclass(frozen=True)
class SessionPage:
    items: list[Session]
    next_cursor: str | None


def create_session(
    uow: UnitOfWork, cache: StateCache, *, owner: str, state: dict[str, Any], clock: Clock
) -> tuple[Session, bytes]:
    """A new session at rev 0 holding `state`; the session and its state's JSON.

    `state` is handed over: the process cache keeps it and later writes change it.
    """
    encoded = jsonvalue.encode(state)
    if len(encoded) > limits.STATE_SIZE_LIMIT:
        raise StateTooLarge(limits.STATE_SIZE_LIMIT)
    now = clock()
    session = Session(
        id=uuid.uuid4(),
        owner=owner,
        rev=0,
        size=len(encoded),
        created_at=now,
        updated_at=now,
        last_seen_at=None,
        checkpoint_rev=0,
        replay_cost=0,
        kept_bytes=len(encoded),
    )
    with uow.write():
        quota.admit_session(uow, owner=owner, state_bytes=session.size)
        uow.sessions.add(session, encoded)
        uow.commit()
    entry = cache.entry(session.id)
    with entry.lock:
        cache.hold(entry, session, state)
        cache.hold_encoded(entry, session.rev, encoded)
    return session, encoded


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


def delete_session(
    uow: UnitOfWork,
    cache: StateCache,
    *,
    owner: str,
    session_id: uuid.UUID,
    precondition: Precondition,
    clock: Clock,
) -> str:
    """Delete the session with everything it owns in the database (cascade), and record
    that its snapshot objects must go; the prefix of those objects, for the caller to
    remove now (the sweep removes them again once in-flight snapshots have settled, and
    until the store answers: no object outlives its session)."""
    prefix = session_prefix(owner, str(session_id))
    with uow.write():
        current = owned(uow, owner=owner, session_id=session_id, for_update=True)
        precondition.check(current.rev)
        quota.release_session(uow, current)
        uow.sessions.delete(owner, session_id, current.rev)
        now = clock()
        uow.deletions.add(prefix, not_before=settled(now))
        if current.watched(now):
            uow.log.announce_deletion(session_id)
        uow.commit()
    cache.discard(session_id)
    return prefix


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
