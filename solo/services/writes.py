"""The write path every change takes: one session lock, one transaction, one swap."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from solo import limits
from solo.domain import jsonvalue
from solo.domain.errors import DomainError, InvalidState, StateTooLarge
from solo.domain.model import (
    Change,
    Clock,
    KeptLog,
    LoggedChange,
    Patch,
    Replace,
    Revision,
    Session,
)
from solo.domain.patch import apply_patch
from solo.domain.preconditions import Precondition
from solo.runtime.state_cache import Entry, StateCache
from solo.services import quota
from solo.services.ownership import owned
from solo.services.ports import UnitOfWork
from solo.services.states import LogMovedOn, materialized


@dataclasses.dataclass(frozen=True)
class Write:
    """One write request: who changes which session, how, and on what condition."""

    owner: str
    session_id: uuid.UUID
    precondition: Precondition
    change: Change


def write(
    uow: UnitOfWork, cache: StateCache, request: Write, *, clock: Clock, kept: KeptLog
) -> Revision:
    """The write path: lock the session, check the precondition, apply the change to the
    cached state within its budgets, then compare-and-swap the rev and log the change in
    one transaction. A failure anywhere leaves the cache as it was. A Replace's state is
    handed over to the cache, like create's."""
    entry = cache.entry(request.session_id)
    with entry.lock:
        quick = _swapped_in_one_statement(uow, cache, entry, request, clock=clock, kept=kept)
        if quick is not None:
            return quick
        with uow.write():
            current = owned(
                uow, owner=request.owner, session_id=request.session_id, for_update=True
            )
            request.precondition.check(current.rev)
            change = request.change
            if isinstance(change, Patch) and not change.ops:
                return Revision(current.rev, current.updated_at)
            made = _made(
                current,
                change,
                now=clock(),
                kept=kept,
                state_of=lambda: materialized(uow, cache, entry=entry, session=current),
            )
            try:
                made = _record(uow, current, made, kept)
                if current.watched(made.head.updated_at):
                    uow.log.announce(current.id, made.head.rev, made.head.updated_at)
                uow.commit()
            except BaseException:
                made.undo()
                raise
        _hold(cache, entry, made)
    return Revision(made.head.rev, made.head.updated_at)


def _swapped_in_one_statement(
    uow: UnitOfWork,
    cache: StateCache,
    entry: Entry,
    request: Write,
    *,
    clock: Clock,
    kept: KeptLog,
) -> Revision | None:
    """The common write in one round trip, where the database allows it: a patch to a
    cached state whose rev the precondition accepts, that needs no checkpoint. A swap lost
    to another process's write answers the head it found: the cache catches up from the
    log and the swap is tried once more. None when none of this applies or the swap lost
    again: the locked path then decides, from the database's own head."""
    current, state, change = entry.head, entry.state, request.change
    if (
        not uow.swaps_in_one_statement
        or not isinstance(change, Patch)
        or not change.ops
        or current is None
        or state is None
        or current.owner != request.owner
    ):
        return None
    for _attempt in range(limits.ONE_STATEMENT_SWAPS):
        if not request.precondition.allows(current.rev):
            return None
        swapped, found = _swap_once(uow, current, state, change, now=clock(), kept=kept)
        if swapped is not None:
            _hold(cache, entry, swapped)
            return Revision(swapped.head.rev, swapped.head.updated_at)
        if found is None or found.rev <= current.rev:
            return None
        try:
            with uow:
                state = materialized(uow, cache, entry=entry, session=found)
        except LogMovedOn:
            return None
        current = found
    return None


def _swap_once(
    uow: UnitOfWork,
    current: Session,
    state: dict[str, Any],
    change: Patch,
    *,
    now: dt.datetime,
    kept: KeptLog,
) -> tuple[_Made | None, Session | None]:
    """The change made on `state` and swapped in; else None, and the head found."""
    try:
        made = _made(current, change, now=now, kept=kept, state_of=lambda: state)
    except DomainError:
        # The cached state may be behind the database: only the locked path, which reads
        # the database's own head, may say that a patch cannot apply.
        return None, None
    if made.checkpoint is not None:
        made.undo()
        return None, None
    try:
        assert made.logged.ops is not None
        swapped, found = uow.advance_and_log(current, made.head, made.logged.ops)
    except BaseException:
        made.undo()
        raise
    if not swapped:
        made.undo()
        return None, found
    return made, found


def _hold(cache: StateCache, entry: Entry, made: _Made) -> None:
    cache.hold(entry, made.head, made.state)
    if made.checkpoint is not None:
        cache.hold_encoded(entry, made.head.rev, made.checkpoint)


@dataclasses.dataclass(frozen=True)
class _Made:
    """A change applied in memory, not yet committed."""

    head: Session
    state: dict[str, Any]
    logged: LoggedChange
    checkpoint: bytes | None
    undo: Callable[[], None]


def _made(
    current: Session,
    change: Change,
    *,
    now: dt.datetime,
    kept: KeptLog,
    state_of: Callable[[], dict[str, Any]],
) -> _Made:
    rev = current.next_rev()
    if isinstance(change, Replace):
        if not isinstance(change.state, dict):
            raise InvalidState()
        if len(change.encoded) > limits.STATE_SIZE_LIMIT:
            raise StateTooLarge(limits.STATE_SIZE_LIMIT)
        head = dataclasses.replace(
            current,
            rev=rev,
            size=len(change.encoded),
            updated_at=now,
            checkpoint_rev=rev,
            replay_cost=0,
            kept_bytes=current.kept_bytes + len(change.encoded),
        )
        return _Made(head, change.state, LoggedChange(rev, now, None), change.encoded, _nothing)
    assert isinstance(change, Patch)
    # Encoded before they apply: the values they add go into the state as they are, and a
    # later op of the same patch may change them there (add an object, then add into it).
    ops = jsonvalue.encode(change.ops)
    applied = apply_patch(state_of(), current.size, change.ops)
    replay_cost = current.replay_cost + len(ops) + applied.work
    kept_bytes = current.kept_bytes + len(ops)
    checkpoint = None
    if (
        replay_cost > applied.size
        or rev - current.checkpoint_rev >= limits.CHECKPOINT_MAX_CHANGES
        or kept_bytes > kept.bytes
    ):
        # Replaying the log would cost more than loading a new checkpoint, or the log is
        # due for compaction, which can only cut it at a checkpoint.
        checkpoint, replay_cost = jsonvalue.encode(applied.state), 0
        kept_bytes += len(checkpoint)
    head = dataclasses.replace(
        current,
        rev=rev,
        size=applied.size,
        updated_at=now,
        checkpoint_rev=rev if checkpoint is not None else current.checkpoint_rev,
        replay_cost=replay_cost,
        kept_bytes=kept_bytes,
    )
    return _Made(head, applied.state, LoggedChange(rev, now, ops), checkpoint, applied.undo)


def _nothing() -> None:
    """Undoing a whole-state change: the cached state was never touched."""


def _record(uow: UnitOfWork, current: Session, made: _Made, kept: KeptLog) -> _Made:
    """Log the change and swap the head in; a checkpoint compacts the log. What was
    recorded: `made`, with the bytes the compaction freed taken off its head."""
    quota.admit(uow, owner=current.owner, more_bytes=made.head.size - current.size)
    uow.log.append(current.id, made.logged)
    if made.checkpoint is not None:
        uow.log.save_checkpoint(current.id, made.head.rev, made.checkpoint)
        freed = uow.log.compact(
            current.id, head_rev=made.head.rev, keep=kept, kept_bytes=made.head.kept_bytes
        )
        head = dataclasses.replace(made.head, kept_bytes=made.head.kept_bytes - freed)
        made = dataclasses.replace(made, head=head)
    if not uow.sessions.advance(current, made.head):
        raise RuntimeError("the session's row changed under its row lock")
    return made
