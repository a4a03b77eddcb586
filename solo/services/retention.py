"""Snapshots leave: collected by the retention policy, or deleted one at a time; and the
labels that keep one (a name, a pin).

Collecting a snapshot deletes its row, records the deletion of its object and gives its
bytes back to its owner's usage, in one transaction: the object then goes at once or, if
the store does not answer, with the recorded deletions the sweep retries (solo.services.
cleanup), so no object is ever left without a record of it. Sessions are looked at when
the schedule says they are due (a new snapshot, or the end of an hour while some are kept
for their hour or day), a bounded number per pass, each leased to one process at a time.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterator

from solo import limits
from solo.domain.errors import NotFound
from solo.domain.model import Clock, StoredSnapshot
from solo.domain.retention import RetentionPolicy, collectable, next_review
from solo.runtime.metrics import Metrics
from solo.services import quota
from solo.services.ownership import owned
from solo.services.ports import Database, UnitOfWork

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Removed:
    """A snapshot taken out of the database, whose object the caller removes now."""

    snapshot: StoredSnapshot
    recorded: dt.datetime
    """When its object's deletion was recorded (the record's `not_before`)."""


def label_snapshot(
    uow: UnitOfWork, *, owner: str, session_id: uuid.UUID, rev: int, labels: dict[str, object]
) -> StoredSnapshot:
    """Set the snapshot's `name` and/or `pinned` (what `labels` holds)."""
    with uow.write():
        owned(uow, owner=owner, session_id=session_id, held=True)
        snapshot = uow.snapshots.label(session_id, rev, labels)
        if snapshot is None:
            raise NotFound("This session has no snapshot of that rev.")
        uow.commit()
    return snapshot


def delete_snapshot(
    uow: UnitOfWork, *, owner: str, session_id: uuid.UUID, rev: int, clock: Clock
) -> Removed:
    """Delete one snapshot, pinned or not: its row now, its object by the caller."""
    now = clock()
    with uow.write():
        owned(uow, owner=owner, session_id=session_id, held=True)
        removed = _collect(uow, owner, session_id, [rev], now)
        if not removed:
            raise NotFound("This session has no snapshot of that rev.")
        uow.commit()
    return Removed(removed[0], now)


async def review_due(
    db: Database, policy: RetentionPolicy, clock: Clock, metrics: Metrics
) -> list[StoredSnapshot]:
    """One pass: the sessions due (at most RETENTION_SESSIONS_PER_PASS), collecting at
    most RETENTION_SNAPSHOTS_PER_PASS snapshots; a session with more left stays due. What
    it collected (the metrics count it too)."""
    budget = limits.RETENTION_SNAPSHOTS_PER_PASS
    collected: list[StoredSnapshot] = []
    for due in await db.in_database_thread(_leased, db.unit_of_work(), clock()):
        removed = await db.in_database_thread(
            _review, db.unit_of_work(), due, policy=policy, now=clock(), budget=budget
        )
        budget -= len(removed)
        collected += removed
    metrics.collected("retention", [s.size for s in collected])
    return collected


def review_all(
    uow_of: Callable[[], UnitOfWork], policy: RetentionPolicy, now: dt.datetime, *, collect: bool
) -> Iterator[StoredSnapshot]:
    """Every snapshot the policy lets go now, session after session (for `solo gc`); with
    `collect`, collected as it is listed (their objects' deletions recorded)."""
    after = None
    while True:
        uow = uow_of()
        with uow:
            sessions = uow.snapshots.sessions_after(after, limits.RETENTION_SESSIONS_PER_PASS)
        for session_id, owner in sessions:
            if collect:
                due = _Due(session_id, owner, None)
                yield from _review(uow_of(), due, policy=policy, now=now, budget=None)
                continue
            uow = uow_of()
            with uow:
                yield from collectable(uow.snapshots.every(session_id), policy, now)
        if len(sessions) < limits.RETENTION_SESSIONS_PER_PASS:
            return
        after = sessions[-1][0]


@dataclasses.dataclass(frozen=True)
class _Due:
    session_id: uuid.UUID
    owner: str
    leased: dt.datetime | None
    """Until when this process holds the session's review (None: not scheduled)."""


def _leased(uow: UnitOfWork, now: dt.datetime) -> list[_Due]:
    until = now + dt.timedelta(seconds=limits.RETENTION_RETRY_SECONDS)
    leased = []
    with uow.write():
        for session_id, owner, seen in uow.retention.due(now, limits.RETENTION_SESSIONS_PER_PASS):
            if uow.retention.lease(session_id, seen, until):
                leased.append(_Due(session_id, owner, until))
        uow.commit()
    return leased


def _review(
    uow: UnitOfWork, due: _Due, *, policy: RetentionPolicy, now: dt.datetime, budget: int | None
) -> list[StoredSnapshot]:
    """Collect what the policy lets go of the session's snapshots (at most `budget`), and
    say when to look again."""
    with uow.write():
        if uow.sessions.get(due.owner, due.session_id, held=True) is None:
            return []  # deleted meanwhile: its snapshots and schedule went with it
        snapshots = uow.snapshots.every(due.session_id)
        going = collectable(snapshots, policy, now)
        chosen = going if budget is None else going[:budget]
        removed = _collect(uow, due.owner, due.session_id, [s.rev for s in chosen], now)
        if due.leased is not None:
            gone = {s.rev for s in removed}
            left = [s for s in snapshots if s.rev not in gone]
            then = now if len(chosen) < len(going) else next_review(left, policy, now)
            uow.retention.reviewed(due.session_id, due.leased, then)
        uow.commit()
    for snapshot in removed:
        log.info("collected snapshot %s (%s bytes)", snapshot.key, snapshot.size)
    return removed


def _collect(
    uow: UnitOfWork, owner: str, session_id: uuid.UUID, revs: list[int], now: dt.datetime
) -> list[StoredSnapshot]:
    """Delete these snapshots' rows, record their objects' deletions, give their bytes
    back: what this transaction removed (a racing delete may have taken some)."""
    if not revs:
        return []
    removed = uow.snapshots.remove(session_id, revs)
    for snapshot in removed:
        uow.deletions.add(snapshot.key, not_before=now)
    quota.release(uow, owner=owner, fewer_bytes=sum(s.size for s in removed))
    return removed
