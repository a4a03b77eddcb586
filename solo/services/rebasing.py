"""What a rebase needs from the log: the changes since the diff's base, within bounds, and
the answer that lets a client converge in one round trip (solo.domain.rebase does the
moving)."""

from __future__ import annotations

import uuid

from solo import limits
from solo.domain.errors import AheadOfServer, ChangesCompacted, RebaseConflict
from solo.domain.model import ChangeSize, LoggedChange, Session
from solo.domain.rebase import ConflictReason
from solo.services.changes import entries
from solo.services.ports import UnitOfWork
from solo.services.states import LogMovedOn


def changes_since_base(
    uow: UnitOfWork, session: Session, base_rev: int, *, held: list[LoggedChange] | None = None
) -> list[LoggedChange]:
    """The changes after `base_rev`, in order, none of them a whole state: what a diff
    computed on `base_rev` is moved over. `held`: those changes, when the state cache holds
    them all (patches only, as the log still keeps them); else they are read from the log.
    ChangesCompacted when the log no longer reaches back; RebaseConflict (too_far,
    whole_state) past the bounds or over a whole state."""
    if base_rev > session.rev:
        raise AheadOfServer(session.rev)
    if held is not None:
        _within_bounds([ChangeSize(c.rev, c.at, len(c.ops or b""), False) for c in held], session)
        return held
    sizes = uow.log.sizes(session.id, base_rev, session.rev, limits.REBASE_MAX_CHANGES + 1)
    if not sizes or sizes[0].rev != base_rev + 1:
        oldest = uow.log.oldest_kept(session.id)
        raise ChangesCompacted(oldest_rev=session.rev if oldest is None else oldest - 1)
    _within_bounds(sizes, session)
    ops = uow.log.ops_between(session.id, base_rev + 1, session.rev)
    if any(size.rev not in ops for size in sizes):
        # Read without the session's lock (the one-statement path), the log was compacted
        # between the two reads: read again, under the lock.
        raise LogMovedOn()
    return [LoggedChange(size.rev, size.at, ops[size.rev]) for size in sizes]


def _within_bounds(sizes: list[ChangeSize], session: Session) -> None:
    too_far = (
        len(sizes) > limits.REBASE_MAX_CHANGES
        or sum(size.size for size in sizes) > limits.REBASE_MAX_BYTES
    )
    if too_far:
        raise RebaseConflict(ConflictReason.TOO_FAR, [], rev=session.rev)
    if any(size.whole for size in sizes):
        raise RebaseConflict(ConflictReason.WHOLE_STATE, [""], rev=session.rev)


def answer_changes(changes: list[LoggedChange]) -> bytes | None:
    """The changes a rebased write answers, when they fit in REBASE_ANSWER_BYTES."""
    if sum(len(change.ops or b"") for change in changes) > limits.REBASE_ANSWER_BYTES:
        return None
    return entries(changes)


def kept_since(uow: UnitOfWork, session_id: uuid.UUID, base_rev: int, rev: int) -> bytes | None:
    """The changes after `base_rev` up to `rev` again (a rebased write replayed), when the
    log still keeps them all and they fit; else None (the client reads the feed)."""
    changes = uow.log.changes(session_id, base_rev, rev)
    if [change.rev for change in changes] != list(range(base_rev + 1, rev + 1)):
        return None
    return answer_changes(changes)
