"""A session's state at its current rev: from the process cache, caught up from the log,
or loaded from its newest checkpoint. The database's rev always decides."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from solo.domain import jsonvalue
from solo.domain.errors import DatabaseUnavailable, DomainError, ServerFault
from solo.domain.model import LoggedChange, Session
from solo.domain.patch import apply_patch
from solo.runtime.state_cache import Entry, StateCache
from solo.services.ownership import owned
from solo.services.ports import UnitOfWork

log = logging.getLogger(__name__)


class LogMovedOn(Exception):
    """The checkpoint a read started from was compacted away meanwhile: read again."""


READ_ATTEMPTS = 3
"""Reads of a session's state tried before its log is deemed too busy (503)."""


def owned_state(
    uow: UnitOfWork, cache: StateCache, *, owner: str, session_id: uuid.UUID
) -> tuple[Session, bytes]:
    """The owner's session and its state's canonical JSON, read again if the log moved on
    meanwhile; NotFound once the session is gone (deleted while it was read, too)."""
    for _attempt in range(READ_ATTEMPTS):
        with uow:
            session = owned(uow, owner=owner, session_id=session_id)
            try:
                return session, encoded_state(uow, cache, session)
            except LogMovedOn:
                continue
    raise DatabaseUnavailable("the log moved on under every read")


def materialized(
    uow: UnitOfWork,
    cache: StateCache,
    *,
    entry: Entry,
    session: Session,
    missed: Sequence[LoggedChange] = (),
) -> dict[str, Any]:
    """The state as of `session.rev`, held by `entry` afterwards (hold `entry.lock`).
    `missed`: changes the caller read already, used when they are exactly those after the
    entry's rev (a lost one-statement swap brings them)."""
    if entry.rev == session.rev and entry.state is not None:
        cache.hits += 1
        return entry.state
    cache.misses += 1
    try:
        if _catchable(entry, session) and _caught_up(uow, cache, entry, session, missed):
            assert entry.state is not None
            return entry.state
        return _loaded(uow, cache, entry, session)
    except (DomainError, LogMovedOn):
        cache.forget(entry)
        raise
    except Exception:
        cache.forget(entry)
        log.exception("session %s could not be rebuilt from its log", session.id)
        raise ServerFault(f"session {session.id} could not be rebuilt from its log") from None


def _catchable(entry: Entry, session: Session) -> bool:
    """Whether replaying the log from the entry's rev is shorter than from the checkpoint."""
    return (
        entry.state is not None
        and entry.rev is not None
        and (session.checkpoint_rev <= entry.rev < session.rev)
    )


def encoded_state(uow: UnitOfWork, cache: StateCache, session: Session) -> bytes:
    """The canonical JSON of the state at `session.rev`, encoded once per rev."""
    entry = cache.entry(session.id)
    known = entry.encoded
    if known is not None and known[0] == session.rev:
        cache.hits += 1
        return known[1]
    with entry.lock:
        if entry.rev != session.rev and session.rev == session.checkpoint_rev:
            # The checkpoint is this rev's canonical JSON already: nothing to parse.
            data = uow.log.checkpoint(session.id, session.rev)
            if data is None:
                raise LogMovedOn()
            cache.hold_encoded(entry, session.rev, data)
            return data
        state = materialized(uow, cache, entry=entry, session=session)
        known = entry.encoded
        if known is not None and known[0] == session.rev:
            return known[1]
        encoded = jsonvalue.encode(state)
        cache.hold_encoded(entry, session.rev, encoded)
        return encoded


def _caught_up(
    uow: UnitOfWork,
    cache: StateCache,
    entry: Entry,
    session: Session,
    missed: Sequence[LoggedChange],
) -> bool:
    """Replay what other writers logged since the entry's rev; False if it is gone."""
    assert entry.rev is not None and entry.state is not None
    wanted = list(range(entry.rev + 1, session.rev + 1))
    changes = missed
    if [change.rev for change in changes] != wanted:
        changes = uow.log.changes(session.id, entry.rev, session.rev)
    if [change.rev for change in changes] != wanted:
        return False
    state = entry.state
    for change in changes:
        state = replayed(state, change.ops)
    # Another process may have compacted the log, always at a checkpoint no later than the
    # newest: the changes after that checkpoint (those just read among them) are kept.
    cache.hold(entry, session, state, made_by=changes, oldest_kept=session.checkpoint_rev + 1)
    return True


def _loaded(uow: UnitOfWork, cache: StateCache, entry: Entry, session: Session) -> dict[str, Any]:
    data = uow.log.checkpoint(session.id, session.checkpoint_rev)
    if data is None:
        raise LogMovedOn()
    state: dict[str, Any] = jsonvalue.decode_canonical(data)
    changes = uow.log.changes(session.id, session.checkpoint_rev, session.rev)
    if [change.rev for change in changes] != list(
        range(session.checkpoint_rev + 1, session.rev + 1)
    ):
        # A read outside the session's lock met a compaction between its two statements.
        raise LogMovedOn()
    for change in changes:
        state = replayed(state, change.ops)
    cache.hold(entry, session, state)
    if session.rev == session.checkpoint_rev:
        cache.hold_encoded(entry, session.rev, data)
    return state


def replayed(state: dict[str, Any], ops: bytes | None) -> dict[str, Any]:
    """`state` with a logged change applied again. A logged change that no longer applies
    is the server's fault, never the client's: ValueError, not a refusal."""
    if ops is None:
        raise ValueError("a whole-state change after the newest checkpoint")
    try:
        return apply_patch(state, 0, jsonvalue.decode_canonical(ops), checked=False).state
    except DomainError as refused:
        raise ValueError(f"a logged change does not apply again: {refused!r}") from None
