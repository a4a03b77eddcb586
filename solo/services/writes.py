"""The write path every change takes: one session lock, one transaction, one swap."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from solo import limits
from solo.domain import jsonvalue
from solo.domain.errors import (
    DomainError,
    IdempotencyInProgress,
    InvalidState,
    RebaseConflict,
    ServerFault,
    StateTooLarge,
    Unavailable,
)
from solo.domain.jsonvalue import timestamp
from solo.domain.model import (
    AnsweredKey,
    Change,
    Clock,
    KeptLog,
    LoggedChange,
    Patch,
    Replace,
    Revision,
    Session,
    StoredIdempotencyKey,
    Swap,
)
from solo.domain.patch import Applied, appends, apply_patch, as_applied
from solo.domain.preconditions import Precondition
from solo.domain.rebase import rebase
from solo.runtime.state_cache import Entry, StateCache
from solo.services import quota, rebasing
from solo.services.idempotency import Keyed, answered
from solo.services.ownership import owned
from solo.services.ports import UnitOfWork
from solo.services.states import LogMovedOn, materialized


@dataclasses.dataclass(frozen=True)
class Write:
    """One write request: who changes which session, how, and on what condition; with
    its Idempotency-Key, and the rev a diff's ops were computed on (a rebase)."""

    owner: str
    session_id: uuid.UUID
    precondition: Precondition
    change: Change
    keyed: Keyed | None = None
    base_rev: int | None = None


@dataclasses.dataclass(frozen=True)
class Written:
    """What a write answers: the rev it made and its answer's body; the changes since a
    rebased diff's base (a JSON array, when they fit); whether it replays an earlier write
    with the same key; and its ops as logged, for the revision event."""

    rev: int
    updated_at: dt.datetime | None
    body: dict[str, Any]
    changes: bytes | None = None
    replayed: bool = False
    logged: bytes | None = None

    @classmethod
    def made(cls, revision: Revision, logged: bytes | None = None) -> Written:
        body = {"rev": revision.rev, "updated_at": timestamp(revision.updated_at)}
        return cls(revision.rev, revision.updated_at, body, logged=logged)


def write(
    uow: UnitOfWork, cache: StateCache, request: Write, *, clock: Clock, kept: KeptLog
) -> Written:
    """The write path: lock the session, check the precondition, apply the change to the
    cached state within its budgets (moved over the changes since its base, for a rebase),
    then compare-and-swap the rev and log the change, with its key, in one transaction. A
    failure anywhere leaves the cache as it was. A Replace's state is handed over to the
    cache, like create's.

    A key is looked up before any refusal is answered, and recorded with the change: a
    retry of a write that was applied gets its first answer, never a second change. A
    new key (the common case) costs no lookup: recording it fails when it is taken, and
    the second attempt looks it up first."""
    entry = cache.entry(request.session_id)
    with entry.lock:
        quick = _swapped_in_one_statement(uow, cache, entry, request, clock=clock, kept=kept)
        if quick is not None:
            return quick
        # Twice at most: a key another process recorded meanwhile is replayed the second time.
        for attempt in range(2):
            with uow.write():
                try:
                    step = _locked_write(
                        uow, cache, entry, request, clock=clock, kept=kept, key_first=attempt > 0
                    )
                except (ServerFault, Unavailable):
                    # The transaction may be broken: the fault is the answer.
                    raise
                except DomainError:
                    stored = answered(uow, request.owner, request.keyed, clock())
                    if stored is None:
                        raise
                    return _replayed(uow, request, stored)
                if not isinstance(step, _Recorded):
                    if step is None:
                        continue
                    return step
                try:
                    uow.commit()
                except BaseException:
                    step.made.undo()
                    raise
            _hold(cache, entry, step.made)
            return step.written
    raise IdempotencyInProgress()


@dataclasses.dataclass(frozen=True)
class _Recorded:
    """A write made and recorded in its transaction, not yet committed."""

    made: _Made
    written: Written


def _locked_write(
    uow: UnitOfWork,
    cache: StateCache,
    entry: Entry,
    request: Write,
    *,
    clock: Clock,
    kept: KeptLog,
    key_first: bool,
) -> _Recorded | Written | None:
    """One attempt in the write's transaction: recorded; or an answer already (a replay,
    an empty patch); or None when the key was recorded by another write meanwhile."""
    if key_first:
        stored = answered(uow, request.owner, request.keyed, clock())
        if stored is not None:
            return _replayed(uow, request, stored)
    current = owned(uow, owner=request.owner, session_id=request.session_id, for_update=True)
    request.precondition.check(current.rev)
    change = request.change
    if isinstance(change, Patch) and not change.ops:
        return Written.made(Revision(current.rev, current.updated_at))
    since = _since(uow, cache, entry, current, request.base_rev)
    made = _made(
        current,
        change,
        now=clock(),
        kept=kept,
        state_of=functools.partial(materialized, uow, cache, entry=entry, session=current),
        since=since,
    )
    try:
        if made.checkpoint is not None and not key_first:
            # This write compacts the log, which forgets the keys of the changes it cuts: a
            # retry's own key among them would be free to record again. Look it up first.
            stored = answered(uow, request.owner, request.keyed, clock())
            if stored is not None:
                made.undo()
                return _replayed(uow, request, stored)
        made = _record(uow, current, made, kept)
        written = _written(made, request.base_rev if since else None, since)
        if not _keyed(uow, request, written, now=made.head.updated_at):
            made.undo()
            return None
        if current.watched(made.head.updated_at):
            head = made.head
            uow.log.announce(current.id, head.rev, head.updated_at, made.logged.ops)
    except BaseException:
        made.undo()
        raise
    return _Recorded(made, written)


def _since(
    uow: UnitOfWork, cache: StateCache, entry: Entry, current: Session, base_rev: int | None
) -> list[LoggedChange] | None:
    """The changes a diff is rebased over: from the cache when it holds them, once it is
    at the database's head (catching up reads the changes another process made, which
    the patch needs applied anyway); None when it needs no rebase."""
    if base_rev is None or base_rev == current.rev:
        return None
    if base_rev < current.rev:
        materialized(uow, cache, entry=entry, session=current)
    held = entry.changes_after(base_rev) if entry.rev == current.rev else None
    return rebasing.changes_since_base(uow, current, base_rev, held=held)


def _written(made: _Made, base_rev: int | None, since: list[LoggedChange] | None) -> Written:
    written = Written.made(Revision(made.head.rev, made.head.updated_at), made.logged.ops)
    if base_rev is None or since is None:
        return written
    return dataclasses.replace(
        written,
        body={**written.body, "rebased_from": base_rev},
        changes=rebasing.answer_changes([*since, made.logged]),
    )


def _keyed(uow: UnitOfWork, request: Write, written: Written, *, now: dt.datetime) -> bool:
    """Record the write's key with its answer; False when the key was taken meanwhile."""
    if request.keyed is None:
        return True
    return uow.idempotency.record(
        request.owner,
        request.keyed.key,
        request.keyed.fingerprint,
        status_code=200,
        body=written.body,
        session_id=request.session_id,
        rev=written.rev,
        now=now,
    )


def _replayed(uow: UnitOfWork, request: Write, stored: StoredIdempotencyKey) -> Written:
    """The answer of the write that first came with this key, again."""
    assert isinstance(stored.body, dict) and stored.rev is not None
    base_rev = stored.body.get("rebased_from")
    changes = (
        None
        if base_rev is None
        else rebasing.kept_since(uow, request.session_id, base_rev, stored.rev)
    )
    return Written(stored.rev, None, stored.body, changes=changes, replayed=True)


def _swapped_in_one_statement(
    uow: UnitOfWork,
    cache: StateCache,
    entry: Entry,
    request: Write,
    *,
    clock: Clock,
    kept: KeptLog,
) -> Written | None:
    """The common write in one round trip, where the database allows it: a patch to a
    cached state whose rev the precondition accepts, that needs no checkpoint (a rebase:
    over changes the cache holds), with its key recorded in the same statement. A swap lost
    to another process's write answers the head it found and the changes it lost to: the
    cache catches up on them (or from the log, when they are not all there) and the swap
    is tried once more. None when none of this applies, the swap lost again or the key was
    taken: the locked path then decides, from the database's own head and keys."""
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
    if request.base_rev is not None and request.base_rev > current.rev:
        # A base this process has not seen: another process wrote it, so the cache is
        # behind the database; catch it up first.
        caught = _head_caught_up(uow, cache, entry, request, found=None)
        if caught is None:
            return None
        current, state = caught
    for _attempt in range(limits.ONE_STATEMENT_SWAPS):
        if not request.precondition.allows(current.rev):
            return None
        try:
            since = _quick_since(uow, entry, current, request.base_rev)
        except (DomainError, LogMovedOn):
            return None
        swapped, lost = _swap_once(
            uow, current, state, request, since=since, now=clock(), kept=kept
        )
        if swapped is not None:
            _hold(cache, entry, swapped.made)
            return swapped.written
        if lost.found is None:
            return None
        ahead = lost.found.rev > current.rev
        caught = _head_caught_up(
            uow, cache, entry, request, found=lost.found if ahead else None, missed=lost.missed
        )
        if caught is None:
            return None
        current, state = caught
    return None


def _head_caught_up(
    uow: UnitOfWork,
    cache: StateCache,
    entry: Entry,
    request: Write,
    *,
    found: Session | None,
    missed: Sequence[LoggedChange] = (),
) -> tuple[Session, dict[str, Any]] | None:
    """The database's head, `found` or read again (a swap that waited for another
    process's write reads the head as it was before that write), with the cache caught up
    to it (on `missed`, the changes a lost swap brought, when they suffice); None when the
    locked path should decide."""
    try:
        with uow:
            head = found or owned(uow, owner=request.owner, session_id=request.session_id)
            return head, materialized(uow, cache, entry=entry, session=head, missed=missed)
    except (DomainError, LogMovedOn):
        return None


def _quick_since(
    uow: UnitOfWork, entry: Entry, current: Session, base_rev: int | None
) -> list[LoggedChange] | None:
    """The changes a diff is rebased over, from the cache (at `current`) when it holds
    them, else read from the log (without a lock: a committed change never changes, and
    the swap checks the head); None when it needs no rebase."""
    if base_rev is None or base_rev == current.rev:
        return None
    held = entry.changes_after(base_rev)
    if held is not None:
        return rebasing.changes_since_base(uow, current, base_rev, held=held)
    with uow:
        return rebasing.changes_since_base(uow, current, base_rev)


def _swap_once(
    uow: UnitOfWork,
    current: Session,
    state: dict[str, Any],
    request: Write,
    *,
    since: list[LoggedChange] | None,
    now: dt.datetime,
    kept: KeptLog,
) -> tuple[_Recorded | None, Swap]:
    """The change made on `state` and swapped in, or None; and what the swap found."""
    assert isinstance(request.change, Patch)
    try:
        made = _made(
            current, request.change, now=now, kept=kept, state_of=lambda: state, since=since
        )
    except DomainError:
        # The cached state may be behind the database: only the locked path, which reads
        # the database's own head, may say that a patch cannot apply.
        return None, _NOT_TRIED
    if made.checkpoint is not None:
        made.undo()
        return None, _NOT_TRIED
    written = _written(made, request.base_rev if since else None, since)
    key = None
    if request.keyed is not None:
        key = AnsweredKey(request.keyed.key, request.keyed.fingerprint, written.body)
    try:
        assert made.logged.ops is not None
        swap = uow.advance_and_log(current, made.head, made.logged.ops, key=key)
    except BaseException:
        made.undo()
        raise
    if not swap.swapped:
        made.undo()
        return None, swap
    return _Recorded(made, written), swap


_NOT_TRIED = Swap(swapped=False, found=None)
"""A swap not sent: the locked path decides."""


def _hold(cache: StateCache, entry: Entry, made: _Made) -> None:
    # A whole state is no change a rebase moves over: the recent changes start after it.
    made_by = () if made.logged.ops is None else (made.logged,)
    cache.hold(entry, made.head, made.state, made_by=made_by, oldest_kept=made.oldest_kept)
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
    oldest_kept: int = 0
    """The oldest rev whose change the log keeps, when this write compacted it."""


def _made(
    current: Session,
    change: Change,
    *,
    now: dt.datetime,
    kept: KeptLog,
    state_of: Callable[[], dict[str, Any]],
    since: list[LoggedChange] | None = None,
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
    applied, ops = _applied(current, change, state_of(), since)
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


def _applied(
    current: Session, change: Patch, state: dict[str, Any], since: list[LoggedChange] | None
) -> tuple[Applied, bytes]:
    """The patch applied to `state` (moved over `since` first, for a rebase), and its ops
    as the log keeps them: encoded before they apply (the values they add go into the
    state as they are, and a later op of the same patch may change them there), with the
    index each `…/-` added at."""
    if since is not None:
        try:
            rebased = rebase(
                state,
                current.size,
                change.ops,
                since=[c.ops for c in since if c.ops is not None],
                work_limit=limits.REBASE_WORK_LIMIT,
            )
        except RebaseConflict as conflict:
            raise RebaseConflict(conflict.reason, conflict.paths, rev=current.rev) from None
        return rebased.applied, as_applied(rebased.ops, rebased.applied.appended)
    if appends(change.ops):
        each = [jsonvalue.encode(op) for op in change.ops]
        applied = apply_patch(state, current.size, change.ops)
        return applied, as_applied(each, applied.appended)
    ops = jsonvalue.encode(change.ops)
    return apply_patch(state, current.size, change.ops), ops


def _nothing() -> None:
    """Undoing a whole-state change: the cached state was never touched."""


def _record(uow: UnitOfWork, current: Session, made: _Made, kept: KeptLog) -> _Made:
    """Log the change and swap the head in; a checkpoint compacts the log. What was
    recorded: `made`, with the bytes the compaction freed taken off its head."""
    quota.admit(uow, owner=current.owner, more_bytes=made.head.size - current.size)
    uow.log.append(current.id, made.logged)
    if made.checkpoint is not None:
        uow.log.save_checkpoint(current.id, made.head.rev, made.checkpoint)
        compacted = uow.log.compact(
            current.id, head_rev=made.head.rev, keep=kept, kept_bytes=made.head.kept_bytes
        )
        if compacted.cut is not None:
            uow.idempotency.forget(current.id, up_to_rev=compacted.cut)
        head = dataclasses.replace(made.head, kept_bytes=made.head.kept_bytes - compacted.freed)
        oldest_kept = made.oldest_kept if compacted.cut is None else compacted.cut + 1
        made = dataclasses.replace(made, head=head, oldest_kept=oldest_kept)
    if not uow.sessions.advance(current, made.head):
        raise RuntimeError("the session's row changed under its row lock")
    return made
