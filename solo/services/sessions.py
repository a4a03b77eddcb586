"""Sessions: create, read, list, delete, and the two compare-and-swap writes."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable

from solo import limits
from solo.db.repository import PageCursor, StoredSession
from solo.db.uow import UnitOfWork
from solo.errors import (
    InvalidRequest,
    InvalidState,
    NotFound,
    PreconditionFailed,
    StateTooLarge,
)
from solo.services.patching import apply_patch
from solo.services.preconditions import Precondition
from solo.storage import BlobStore, StorageUnavailable, session_prefix

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


@dataclasses.dataclass(frozen=True)
class SessionPage:
    items: list[StoredSession]
    next_cursor: str | None


def create_session(uow: UnitOfWork, owner: str, state: dict, clock: Clock) -> StoredSession:
    now = clock()
    stored = StoredSession(uuid.uuid4(), owner, state, 0, now, now)
    with uow:
        uow.sessions.add(stored)
        uow.commit()
    return stored


def get_session(uow: UnitOfWork, owner: str, session_id: uuid.UUID) -> StoredSession:
    with uow:
        stored = uow.sessions.get(owner, session_id)
    if stored is None:
        raise NotFound()
    return stored


def ensure_exists(uow: UnitOfWork, owner: str, session_id: uuid.UUID) -> None:
    with uow:
        if uow.sessions.current_rev(owner, session_id) is None:
            raise NotFound()


def check_precondition(
    uow: UnitOfWork, owner: str, session_id: uuid.UUID, precondition: Precondition
) -> None:
    """What a write answers before it looks at its body: 404, then 412 or 409."""
    with uow:
        current_rev = uow.sessions.current_rev(owner, session_id)
    if current_rev is None:
        raise NotFound()
    precondition.check(current_rev)


def list_sessions(uow: UnitOfWork, owner: str, cursor: str | None, limit: int) -> SessionPage:
    after = decode_cursor(cursor) if cursor is not None else None
    with uow:
        rows = uow.sessions.list_page(owner, after, limit + 1)
    items = rows[:limit]
    more = len(rows) > limit
    return SessionPage(items, encode_cursor(items[-1]) if more else None)


def delete_session(
    uow: UnitOfWork,
    store: BlobStore,
    owner: str,
    session_id: uuid.UUID,
    precondition: Precondition,
) -> None:
    """Delete the session with its telemetry and snapshot rows (cascade), then its
    snapshot objects: once the rows are gone the objects are unreachable, so a store
    failure here leaves garbage, never a dangling reference."""
    for _attempt in range(limits.CAS_RETRIES_FOR_ANY_MATCH):
        with uow:
            current_rev = uow.sessions.current_rev(owner, session_id)
            if current_rev is None:
                raise NotFound()
            precondition.check(current_rev)
            if uow.sessions.delete(owner, session_id, current_rev):
                uow.commit()
                break
    else:
        raise _lost_every_race(uow, owner, session_id)
    prefix = session_prefix(owner, str(session_id))
    try:
        store.delete_prefix(prefix)
    except StorageUnavailable as exc:
        log.error("objects under %s were not deleted: %s", prefix, exc)


def apply_diff(
    uow: UnitOfWork,
    owner: str,
    session_id: uuid.UUID,
    ops: list,
    precondition: Precondition,
    clock: Clock,
) -> StoredSession:
    def patched(state: dict) -> dict | None:
        if not ops:
            return None
        new_state = apply_patch(state, ops)
        if state_size(new_state) > limits.STATE_SIZE_LIMIT:
            raise StateTooLarge(limits.STATE_SIZE_LIMIT)
        return new_state

    return _write(uow, owner, session_id, precondition, patched, clock)


def replace_state(
    uow: UnitOfWork,
    owner: str,
    session_id: uuid.UUID,
    state: object,
    precondition: Precondition,
    clock: Clock,
) -> StoredSession:
    def replaced(_current: dict) -> dict:
        if not isinstance(state, dict):
            raise InvalidState()
        return state

    return _write(uow, owner, session_id, precondition, replaced, clock)


def _write(
    uow: UnitOfWork,
    owner: str,
    session_id: uuid.UUID,
    precondition: Precondition,
    new_state_of: Callable[[dict], dict | None],
    clock: Clock,
) -> StoredSession:
    """Read, check the precondition, compute, then compare-and-swap on the rev read.

    Losing the swap means another writer got in first: the next pass re-reads and
    the precondition answers 412/409, except for `If-Match: *`, which retries.
    """
    for _attempt in range(limits.CAS_RETRIES_FOR_ANY_MATCH):
        with uow:
            current = uow.sessions.get(owner, session_id)
            if current is None:
                raise NotFound()
            precondition.check(current.rev)
            new_state = new_state_of(current.state)
            if new_state is None:
                return current
            now = clock()
            if uow.sessions.compare_and_swap(owner, session_id, current.rev, new_state, now):
                uow.commit()
                return dataclasses.replace(
                    current, state=new_state, rev=current.rev + 1, updated_at=now
                )
    raise _lost_every_race(uow, owner, session_id)


def _lost_every_race(uow: UnitOfWork, owner: str, session_id: uuid.UUID) -> Exception:
    with uow:
        current_rev = uow.sessions.current_rev(owner, session_id)
    if current_rev is None:
        return NotFound()
    return PreconditionFailed("mismatch", current_rev)


def state_size(state: dict) -> int:
    """Bytes of the state as stored: compact UTF-8 JSON."""
    return len(json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode())


def encode_cursor(last: StoredSession) -> str:
    raw = json.dumps([last.created_at.isoformat(), str(last.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> PageCursor:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, last_id = json.loads(base64.urlsafe_b64decode(padded))
        position = PageCursor(dt.datetime.fromisoformat(created_at), uuid.UUID(last_id))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest("cursor is not one this server issued", field="cursor") from None
    if position.created_at.tzinfo is None:
        raise InvalidRequest("cursor is not one this server issued", field="cursor")
    return position
