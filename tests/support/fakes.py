"""The ports of solo/services/ports.py in memory, for fast service tests: no database, no
HTTP, no threads of their own.

`FakeDatabase` holds the committed rows (a `Tables`). A unit of work copies them when a
transaction begins and works on that copy; `commit()` makes the copy the committed rows,
and leaving the transaction without it drops the copy: a rollback, whatever the services
changed. Write transactions are serialized (one at a time, like SQLite's writer and the
row locks of PostgreSQL's write path); a read sees what was committed when it began.

The repositories follow solo/db statement by statement: the compare-and-swap on rev, the
revision log with its checkpoints and its compaction (the same cut), idempotency keys
(claimed, recorded over an expired row, forgotten with the changes they made), quotas
charged only within their limits, and the cascades of a session's delete. Rows are frozen
dataclasses or bytes, so copying the tables copies only their dicts.

The module-level assignments at the bottom make mypy hold each fake to its Protocol:
`mypy tests/support/fakes.py` (make test runs it).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import ParamSpec, TypeVar

from solo import limits
from solo.domain.errors import NotFound, StorageUnavailable
from solo.domain.model import (
    AnsweredKey,
    ChangeSize,
    Compacted,
    KeptLog,
    LoggedChange,
    PageCursor,
    Session,
    SnapshotClaim,
    StoredIdempotencyKey,
    StoredSnapshot,
    Swap,
)
from solo.domain.quotas import Quotas, Usage
from solo.services import ports

P = ParamSpec("P")
T = TypeVar("T")

DELETED_REV = -1
"""The rev an announcement carries for a deleted session (as solo.db.revisions says)."""

NO_QUOTAS = Quotas(sessions=1_000_000, bytes=1 << 40)


class IntegrityError(Exception):
    """What the database would refuse: a row referring to a session that does not exist,
    or usage going below zero."""


@dataclasses.dataclass(frozen=True)
class Announcement:
    """A revision (or a deletion, rev -1) told to the other server processes on commit."""

    session_id: uuid.UUID
    rev: int
    at: dt.datetime
    ops: bytes | None


@dataclasses.dataclass(frozen=True)
class TelemetryEvent:
    id: int
    session_id: uuid.UUID
    owner: str
    received_at: dt.datetime
    payload: object


@dataclasses.dataclass(frozen=True)
class SnapshotRow:
    snapshot: StoredSnapshot
    claim: str | None
    """The token of the request writing its object; None once written."""


@dataclasses.dataclass(frozen=True)
class KeyRow:
    fingerprint: str
    status_code: int | None
    body: object
    expires_at: dt.datetime | None
    session_id: uuid.UUID | None = None
    rev: int | None = None


@dataclasses.dataclass(frozen=True)
class DeletionRow:
    not_before: dt.datetime
    attempts: int


@dataclasses.dataclass
class Tables:
    """Every row, as the schema of solo/db/models.py keys it."""

    sessions: dict[uuid.UUID, Session] = dataclasses.field(default_factory=dict)
    checkpoints: dict[tuple[uuid.UUID, int], bytes] = dataclasses.field(default_factory=dict)
    changes: dict[tuple[uuid.UUID, int], LoggedChange] = dataclasses.field(default_factory=dict)
    telemetry: list[TelemetryEvent] = dataclasses.field(default_factory=list)
    next_event_id: int = 1
    snapshots: dict[tuple[uuid.UUID, int], SnapshotRow] = dataclasses.field(default_factory=dict)
    keys: dict[tuple[str, str], KeyRow] = dataclasses.field(default_factory=dict)
    deletions: dict[str, DeletionRow] = dataclasses.field(default_factory=dict)
    usage: dict[str, Usage] = dataclasses.field(default_factory=dict)
    retention: dict[uuid.UUID, dt.datetime] = dataclasses.field(default_factory=dict)
    announcements: list[Announcement] = dataclasses.field(default_factory=list)
    """Told on commit, in order (NOTIFY on PostgreSQL)."""

    def copy(self) -> Tables:
        return Tables(
            sessions=dict(self.sessions),
            checkpoints=dict(self.checkpoints),
            changes=dict(self.changes),
            telemetry=list(self.telemetry),
            next_event_id=self.next_event_id,
            snapshots=dict(self.snapshots),
            keys=dict(self.keys),
            deletions=dict(self.deletions),
            usage=dict(self.usage),
            retention=dict(self.retention),
            announcements=list(self.announcements),
        )

    def kept_revs(self, session_id: uuid.UUID) -> list[int]:
        return sorted(rev for sid, rev in self.changes if sid == session_id)

    def checkpoint_revs(self, session_id: uuid.UUID) -> list[int]:
        return sorted(rev for sid, rev in self.checkpoints if sid == session_id)

    def require_session(self, session_id: uuid.UUID) -> None:
        if session_id not in self.sessions:
            raise IntegrityError(f"no session {session_id}")


class SessionRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, session: Session, state: bytes) -> None:
        if session.id in self._t.sessions:
            raise IntegrityError(f"session {session.id} exists")
        self._t.sessions[session.id] = session
        self._t.checkpoints[(session.id, session.rev)] = state

    def get(
        self, owner: str, session_id: uuid.UUID, *, for_update: bool = False, held: bool = False
    ) -> Session | None:
        session = self._t.sessions.get(session_id)
        return session if session is not None and session.owner == owner else None

    def list_page(self, owner: str, after: PageCursor | None, limit: int) -> list[Session]:
        mine = [s for s in self._t.sessions.values() if s.owner == owner]
        if after is not None:
            mine = [s for s in mine if (s.created_at, s.id) < (after.created_at, after.id)]
        mine.sort(key=lambda s: (s.created_at, s.id), reverse=True)
        return mine[:limit]

    def advance(self, current: Session, new: Session) -> bool:
        stored = self.get(current.owner, current.id)
        if stored is None or stored.rev != current.rev:
            return False
        self._t.sessions[current.id] = _swapped(stored, new, checkpoint=True)
        return True

    def watch(self, session_ids: list[uuid.UUID], until: dt.datetime) -> None:
        for session_id in session_ids:
            session = self._t.sessions.get(session_id)
            if session is not None:
                self._t.sessions[session_id] = dataclasses.replace(session, watched_until=until)

    def heads(self, session_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, dt.datetime]]:
        found = (self._t.sessions.get(session_id) for session_id in session_ids)
        return {s.id: (s.rev, s.updated_at) for s in found if s is not None}

    def delete(self, owner: str, session_id: uuid.UUID, expected_rev: int) -> bool:
        stored = self.get(owner, session_id)
        if stored is None or stored.rev != expected_rev:
            return False
        t = self._t
        del t.sessions[session_id]
        # ON DELETE CASCADE: the log, checkpoints, snapshots, telemetry, keys, schedule.
        for table in (t.checkpoints, t.changes, t.snapshots):
            for row_key in [k for k in table if k[0] == session_id]:
                del table[row_key]
        t.telemetry = [event for event in t.telemetry if event.session_id != session_id]
        for key in [k for k, row in t.keys.items() if row.session_id == session_id]:
            del t.keys[key]
        t.retention.pop(session_id, None)
        return True


def _swapped(stored: Session, new: Session, *, checkpoint: bool) -> Session:
    """The columns a swap sets (solo.db.sessions._ADVANCE); the others stay as stored."""
    return dataclasses.replace(
        stored,
        rev=new.rev,
        size=new.size,
        updated_at=new.updated_at,
        checkpoint_rev=new.checkpoint_rev if checkpoint else stored.checkpoint_rev,
        replay_cost=new.replay_cost,
        kept_bytes=new.kept_bytes,
    )


class RevisionLog:
    def __init__(self, tables: Tables, pending: list[Announcement]) -> None:
        self._t = tables
        self._pending = pending

    def announce(
        self, session_id: uuid.UUID, rev: int, at: dt.datetime, ops: bytes | None = None
    ) -> None:
        small = ops is not None and len(ops) <= limits.EVENT_OPS_MAX_BYTES
        self._pending.append(Announcement(session_id, rev, at, ops if small else None))

    def announce_deletion(self, session_id: uuid.UUID) -> None:
        self.announce(session_id, DELETED_REV, dt.datetime.min.replace(tzinfo=dt.UTC))

    def append(self, session_id: uuid.UUID, change: LoggedChange) -> None:
        self._t.require_session(session_id)
        if (session_id, change.rev) in self._t.changes:
            raise IntegrityError(f"rev {change.rev} of {session_id} is logged")
        self._t.changes[(session_id, change.rev)] = change

    def save_checkpoint(self, session_id: uuid.UUID, rev: int, state: bytes) -> None:
        self._t.require_session(session_id)
        if (session_id, rev) in self._t.checkpoints:
            raise IntegrityError(f"rev {rev} of {session_id} has a checkpoint")
        self._t.checkpoints[(session_id, rev)] = state

    def checkpoint(self, session_id: uuid.UUID, rev: int) -> bytes | None:
        return self._t.checkpoints.get((session_id, rev))

    def newest_checkpoint(self, session_id: uuid.UUID, at_most: int) -> tuple[int, bytes] | None:
        revs = [rev for rev in self._t.checkpoint_revs(session_id) if rev <= at_most]
        return None if not revs else (revs[-1], self._t.checkpoints[(session_id, revs[-1])])

    def changes(
        self, session_id: uuid.UUID, after_rev: int, up_to_rev: int, limit: int | None = None
    ) -> list[LoggedChange]:
        found = [
            self._t.changes[(session_id, rev)]
            for rev in self._between(session_id, after_rev, up_to_rev)
        ]
        return found if limit is None else found[:limit]

    def sizes(
        self, session_id: uuid.UUID, after_rev: int, up_to_rev: int, limit: int
    ) -> list[ChangeSize]:
        sized = []
        for change in self.changes(session_id, after_rev, up_to_rev, limit):
            if change.ops is not None:
                sized.append(ChangeSize(change.rev, change.at, len(change.ops), False))
            else:
                state = self._t.checkpoints.get((session_id, change.rev), b"")
                sized.append(ChangeSize(change.rev, change.at, len(state), True))
        return sized

    def ops_between(
        self, session_id: uuid.UUID, first_rev: int, last_rev: int
    ) -> dict[int, bytes | None]:
        return {c.rev: c.ops for c in self.changes(session_id, first_rev - 1, last_rev)}

    def revisions(
        self, session_id: uuid.UUID, after_rev: int, up_to_rev: int
    ) -> list[tuple[int, dt.datetime, bytes | None]]:
        return [
            (
                c.rev,
                c.at,
                c.ops if c.ops is not None and len(c.ops) <= limits.EVENT_OPS_MAX_BYTES else None,
            )
            for c in self.changes(session_id, after_rev, up_to_rev)
        ]

    def oldest_kept(self, session_id: uuid.UUID) -> int | None:
        revs = self._t.kept_revs(session_id)
        return revs[0] if revs else None

    def compact(
        self, session_id: uuid.UUID, *, head_rev: int, keep: KeptLog, kept_bytes: int
    ) -> Compacted:
        """The same cut as solo.db.revisions.RevisionLog.compact."""
        checkpoints = self._t.checkpoint_revs(session_id)
        by_count = [rev for rev in checkpoints if rev <= head_rev - keep.changes]
        cut = by_count[-1] if by_count else None
        if kept_bytes > keep.bytes:
            bytes_cut = self._bytes_cut(session_id, keep.bytes)
            cut = bytes_cut if cut is None else max(cut, bytes_cut)
        if cut is None:
            return Compacted(freed=0, cut=None)
        freed = 0
        for rev in self._t.kept_revs(session_id):
            if rev <= cut:
                ops = self._t.changes.pop((session_id, rev)).ops
                freed += 0 if ops is None else len(ops)
        for rev in checkpoints:
            if rev < cut:
                freed += len(self._t.checkpoints.pop((session_id, rev)))
        return Compacted(freed=freed, cut=cut)

    def _bytes_cut(self, session_id: uuid.UUID, budget: int) -> int:
        checkpoints = self._t.checkpoint_revs(session_id)
        pending = [
            (rev, len(self._t.changes[(session_id, rev)].ops or b""))
            for rev in self._t.kept_revs(session_id)
        ]
        kept, cut = 0, checkpoints[-1]
        for rev in reversed(checkpoints):
            while pending and pending[-1][0] > rev:
                kept += pending.pop()[1]
            kept += len(self._t.checkpoints[(session_id, rev)])
            if kept > budget:
                break
            cut = rev
        return cut

    def _between(self, session_id: uuid.UUID, after_rev: int, up_to_rev: int) -> list[int]:
        return [r for r in self._t.kept_revs(session_id) if after_rev < r <= up_to_rev]


class TelemetryRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def record(self, owner: str, session_id: uuid.UUID, payload: object, now: dt.datetime) -> bool:
        session = self._t.sessions.get(session_id)
        if session is None or session.owner != owner:
            return False
        self._t.sessions[session_id] = dataclasses.replace(session, last_seen_at=now)
        event = TelemetryEvent(
            self._t.next_event_id, session_id, owner, now, copy.deepcopy(payload)
        )
        self._t.telemetry.append(event)
        self._t.next_event_id += 1
        return True

    def keep_newest(self, session_id: uuid.UUID, keep: int) -> None:
        ids = sorted((e.id for e in self._t.telemetry if e.session_id == session_id), reverse=True)
        if len(ids) < keep:
            return
        boundary = ids[keep - 1]
        self._t.telemetry = [
            e for e in self._t.telemetry if e.session_id != session_id or e.id >= boundary
        ]

    def events(self, session_id: uuid.UUID) -> list[TelemetryEvent]:
        """For tests: the session's kept events, oldest first."""
        return [e for e in self._t.telemetry if e.session_id == session_id]


class SnapshotRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def claim(self, session_id: uuid.UUID, snapshot: StoredSnapshot, token: str) -> bool:
        self._t.require_session(session_id)
        if (session_id, snapshot.rev) in self._t.snapshots:
            return False
        self._t.snapshots[(session_id, snapshot.rev)] = SnapshotRow(snapshot, token)
        return True

    def complete(self, claim: SnapshotClaim) -> bool:
        row_key = (claim.session_id, claim.snapshot.rev)
        row = self._t.snapshots.get(row_key)
        if row is None or row.claim != claim.token:
            return False
        self._t.snapshots[row_key] = dataclasses.replace(row, claim=None)
        return True

    def release(self, claim: SnapshotClaim) -> bool:
        row_key = (claim.session_id, claim.snapshot.rev)
        row = self._t.snapshots.get(row_key)
        if row is None or row.claim != claim.token:
            return False
        del self._t.snapshots[row_key]
        return True

    def claims_before(self, moment: dt.datetime, limit: int) -> list[SnapshotClaim]:
        found = [
            SnapshotClaim(sid, row.snapshot, row.claim, self._t.sessions[sid].owner)
            for (sid, _rev), row in self._t.snapshots.items()
            if row.claim is not None and row.snapshot.created_at < moment
        ]
        return found[:limit]

    def get(self, session_id: uuid.UUID, rev: int) -> StoredSnapshot | None:
        row = self._t.snapshots.get((session_id, rev))
        return row.snapshot if row is not None and row.claim is None else None

    def newest(
        self, session_id: uuid.UUID, limit: int, before_rev: int | None = None
    ) -> list[StoredSnapshot]:
        every = self.every(session_id)
        if before_rev is not None:
            every = [s for s in every if s.rev < before_rev]
        return every[:limit]

    def every(self, session_id: uuid.UUID) -> list[StoredSnapshot]:
        written = [
            row.snapshot
            for (sid, _rev), row in self._t.snapshots.items()
            if sid == session_id and row.claim is None
        ]
        return sorted(written, key=lambda s: s.rev, reverse=True)

    def sessions_after(self, after: uuid.UUID | None, limit: int) -> list[tuple[uuid.UUID, str]]:
        with_written = {sid for (sid, _r), row in self._t.snapshots.items() if row.claim is None}
        ids = sorted(sid for sid in with_written if after is None or sid > after)
        return [(sid, self._t.sessions[sid].owner) for sid in ids[:limit]]

    def label(
        self, session_id: uuid.UUID, rev: int, labels: dict[str, object]
    ) -> StoredSnapshot | None:
        row = self._t.snapshots.get((session_id, rev))
        if row is None or row.claim is not None:
            return None
        snapshot = dataclasses.replace(row.snapshot, **labels)  # type: ignore[arg-type]
        self._t.snapshots[(session_id, rev)] = SnapshotRow(snapshot, None)
        return snapshot

    def remove(self, session_id: uuid.UUID, revs: list[int]) -> list[StoredSnapshot]:
        removed = []
        for rev in revs:
            row = self._t.snapshots.get((session_id, rev))
            if row is not None and row.claim is None:
                del self._t.snapshots[(session_id, rev)]
                removed.append(row.snapshot)
        return removed

    def remove_all(self, session_id: uuid.UUID) -> int:
        mine = [k for k in self._t.snapshots if k[0] == session_id]
        return sum(self._t.snapshots.pop(k).snapshot.size for k in mine)


class IdempotencyRepository:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def purge_expired(self, now: dt.datetime) -> None:
        expired = [k for k, row in self._t.keys.items() if _expired(row, now)]
        for key in expired:
            del self._t.keys[key]

    def claim(self, owner: str, key: str, fingerprint: str, expires_at: dt.datetime) -> bool:
        if (owner, key) in self._t.keys:
            return False
        self._t.keys[(owner, key)] = KeyRow(fingerprint, None, None, expires_at)
        return True

    def get(self, owner: str, key: str, *, now: dt.datetime) -> StoredIdempotencyKey | None:
        row = self._t.keys.get((owner, key))
        if row is None or _expired(row, now):
            return None
        return StoredIdempotencyKey(
            row.fingerprint, row.status_code, copy.deepcopy(row.body), row.rev
        )

    def complete(self, owner: str, key: str, status_code: int, body: object) -> None:
        row = self._t.keys.get((owner, key))
        if row is not None:
            self._t.keys[(owner, key)] = dataclasses.replace(
                row, status_code=status_code, body=copy.deepcopy(body)
            )

    def record(
        self,
        owner: str,
        key: str,
        fingerprint: str,
        *,
        status_code: int,
        body: object,
        session_id: uuid.UUID | None = None,
        rev: int | None = None,
        expires_at: dt.datetime | None = None,
        now: dt.datetime,
    ) -> bool:
        row = self._t.keys.get((owner, key))
        if row is not None and not _expired(row, now):
            return False
        if session_id is not None:
            self._t.require_session(session_id)
        self._t.keys[(owner, key)] = KeyRow(
            fingerprint, status_code, copy.deepcopy(body), expires_at, session_id, rev
        )
        return True

    def forget(self, session_id: uuid.UUID, *, up_to_rev: int) -> None:
        gone = [
            k
            for k, row in self._t.keys.items()
            if row.session_id == session_id and row.rev is not None and row.rev <= up_to_rev
        ]
        for key in gone:
            del self._t.keys[key]

    def release(self, owner: str, key: str) -> None:
        self._t.keys.pop((owner, key), None)


def _expired(row: KeyRow, now: dt.datetime) -> bool:
    return row.expires_at is not None and row.expires_at <= now


class PendingDeletions:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, prefix: str, not_before: dt.datetime) -> None:
        self._t.deletions.setdefault(prefix, DeletionRow(not_before, 0))

    def due(self, now: dt.datetime, limit: int) -> list[tuple[str, dt.datetime]]:
        due = [(p, row.not_before) for p, row in self._t.deletions.items() if row.not_before <= now]
        return sorted(due, key=lambda d: d[1])[:limit]

    def lease(self, prefix: str, seen: dt.datetime, until: dt.datetime) -> bool:
        row = self._t.deletions.get(prefix)
        if row is None or row.not_before != seen:
            return False
        self._t.deletions[prefix] = DeletionRow(until, row.attempts + 1)
        return True

    def done(self, prefix: str) -> None:
        self._t.deletions.pop(prefix, None)

    def done_unless_taken(self, prefix: str, not_before: dt.datetime) -> None:
        row = self._t.deletions.get(prefix)
        if row is not None and row.not_before == not_before:
            del self._t.deletions[prefix]

    def pending(self, prefix: str) -> bool:
        return prefix in self._t.deletions


class UsageRepository:
    def __init__(self, tables: Tables, quotas: Quotas) -> None:
        self._t = tables
        self._quotas = quotas

    @property
    def quotas(self) -> Quotas:
        return self._quotas

    def of(self, owner: str) -> Usage:
        return self._t.usage.get(owner, Usage(0, 0))

    def open(self, owner: str) -> None:
        self._t.usage.setdefault(owner, Usage(0, 0))

    def charge(self, owner: str, *, sessions: int = 0, bytes: int = 0) -> bool:
        used = self._t.usage.get(owner)
        if used is None:
            return False
        if sessions > 0 and used.sessions + sessions > self._quotas.sessions:
            return False
        if bytes > 0 and used.bytes + bytes > self._quotas.bytes:
            return False
        charged = Usage(used.sessions + sessions, used.bytes + bytes)
        if charged.bytes < 0:
            raise IntegrityError(f"{owner}'s usage would be {charged.bytes} bytes")
        self._t.usage[owner] = charged
        return True


class RetentionSchedule:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def due_at(self, session_id: uuid.UUID, at: dt.datetime) -> None:
        self._t.require_session(session_id)
        due = self._t.retention.get(session_id)
        if due is None or due > at:
            self._t.retention[session_id] = at

    def due(self, now: dt.datetime, limit: int) -> list[tuple[uuid.UUID, str, dt.datetime]]:
        due = [
            (sid, self._t.sessions[sid].owner, at)
            for sid, at in self._t.retention.items()
            if at <= now and sid in self._t.sessions
        ]
        return sorted(due, key=lambda d: d[2])[:limit]

    def lease(self, session_id: uuid.UUID, seen: dt.datetime, until: dt.datetime) -> bool:
        if self._t.retention.get(session_id) != seen:
            return False
        self._t.retention[session_id] = until
        return True

    def reviewed(
        self, session_id: uuid.UUID, leased: dt.datetime, then: dt.datetime | None
    ) -> None:
        if self._t.retention.get(session_id) != leased:
            return
        if then is None:
            del self._t.retention[session_id]
        else:
            self._t.retention[session_id] = then


@dataclasses.dataclass
class _Transaction:
    """A transaction's copy of the rows, with the repositories over it."""

    base: Tables
    """The committed rows it began from (never changed in place: a commit replaces them)."""
    tables: Tables
    write: bool
    announced: list[Announcement]
    sessions: SessionRepository
    log: RevisionLog
    telemetry: TelemetryRepository
    snapshots: SnapshotRepository
    idempotency: IdempotencyRepository
    deletions: PendingDeletions
    usage: UsageRepository
    retention: RetentionSchedule


class FakeUnitOfWork:
    """One transaction at a time over a FakeDatabase's rows: `with uow:` reads, `with
    uow.write():` writes (one writer at a time); leaving either without `commit()` rolls
    it back. The repositories exist only inside a transaction, as in solo.db.uow."""

    def __init__(self, database: FakeDatabase) -> None:
        self._db = database
        self._tx: _Transaction | None = None

    @property
    def sessions(self) -> SessionRepository:
        return self._current().sessions

    @property
    def log(self) -> RevisionLog:
        return self._current().log

    @property
    def telemetry(self) -> TelemetryRepository:
        return self._current().telemetry

    @property
    def snapshots(self) -> SnapshotRepository:
        return self._current().snapshots

    @property
    def idempotency(self) -> IdempotencyRepository:
        return self._current().idempotency

    @property
    def deletions(self) -> PendingDeletions:
        return self._current().deletions

    @property
    def usage(self) -> UsageRepository:
        return self._current().usage

    @property
    def retention(self) -> RetentionSchedule:
        return self._current().retention

    def _current(self) -> _Transaction:
        if self._tx is None:
            raise RuntimeError("a repository used outside a transaction")
        return self._tx

    def __enter__(self) -> FakeUnitOfWork:
        self._begin(write=False)
        return self

    def __exit__(self, *exc_info: object) -> None:
        tx, self._tx = self._tx, None
        if tx is not None and exc_info[0] is None and tx.tables != tx.base:
            # PostgreSQL reads in autocommit: what a read transaction changes would stay.
            raise RuntimeError("a read transaction (`with uow:`) changed rows")

    @contextlib.contextmanager
    def write(self) -> Iterator[FakeUnitOfWork]:
        with self._db.writer:
            self._begin(write=True)
            try:
                yield self
            finally:
                self._tx = None

    def _begin(self, *, write: bool) -> None:
        if self._tx is not None:
            raise RuntimeError("a transaction began inside another one")
        self._db.transactions += 1
        self._tx = self._fresh(write)

    def _fresh(self, write: bool) -> _Transaction:
        with self._db.lock:
            base = self._db.committed
        tables = base.copy()
        announced: list[Announcement] = []
        return _Transaction(
            base=base,
            tables=tables,
            write=write,
            announced=announced,
            sessions=SessionRepository(tables),
            log=RevisionLog(tables, announced),
            telemetry=TelemetryRepository(tables),
            snapshots=SnapshotRepository(tables),
            idempotency=IdempotencyRepository(tables),
            deletions=PendingDeletions(tables),
            usage=UsageRepository(tables, self._db.quotas),
            retention=RetentionSchedule(tables),
        )

    def commit(self) -> None:
        """Make the transaction's rows the committed ones (with what it announced). What
        comes after it runs in a new transaction, rolled back at the end unless committed
        too (SQLAlchemy's autobegin)."""
        tx = self._tx
        if tx is None:
            return
        if self._db.fail_commits:
            self._db.fail_commits -= 1
            raise self._db.commit_failure
        tx.tables.announcements.extend(tx.announced)
        with self._db.lock:
            if self._db.committed is not tx.base and tx.write:
                raise RuntimeError("two write transactions overlapped")
            self._db.committed = tx.tables
            self._db.commits += 1
        self._tx = self._fresh(tx.write)

    def ping(self) -> None:
        if self._db.down:
            raise ConnectionError("the fake database is down")

    @property
    def swaps_in_one_statement(self) -> bool:
        return self._db.one_statement_swaps

    def advance_and_log(
        self, current: Session, new: Session, ops: bytes, *, key: AnsweredKey | None = None
    ) -> Swap:
        """As solo.db.sessions.SessionRepository.advance_and_log, autocommitted: the swap
        (checkpoint_rev untouched), the usage charged, the change logged (with its key) and
        announced if watched, all or nothing; a lost swap brings the changes after
        `current` when they all follow the head's checkpoint; no head past the bytes quota
        or when the key has a row already, even an expired one (a plain INSERT)."""
        if not self._db.one_statement_swaps:
            raise RuntimeError("advance_and_log is PostgreSQL's (one_statement_swaps=True)")
        with self._db.writer, self._db.lock:
            tables = self._db.committed.copy()
            found = tables.sessions.get(current.id)
            if found is None or found.owner != current.owner:
                return Swap(swapped=False, found=None)
            if found.rev != current.rev:
                return Swap(swapped=False, found=found, missed=_missed(tables, current, found))
            if key is not None:
                if (current.owner, key.key) in tables.keys:
                    return Swap(swapped=False, found=None)
                tables.keys[(current.owner, key.key)] = KeyRow(
                    key.fingerprint, 200, copy.deepcopy(key.body), None, current.id, new.rev
                )
            grown = new.size - current.size
            used = tables.usage.get(current.owner)
            if used is not None and grown:
                if grown > 0 and used.bytes + grown > self._db.quotas.bytes:
                    return Swap(swapped=False, found=None)
                tables.usage[current.owner] = Usage(used.sessions, used.bytes + grown)
            tables.sessions[current.id] = _swapped(found, new, checkpoint=False)
            tables.changes[(current.id, new.rev)] = LoggedChange(new.rev, new.updated_at, ops)
            if found.watched(new.updated_at):
                small = len(ops) <= limits.EVENT_OPS_MAX_BYTES
                tables.announcements.append(
                    Announcement(current.id, new.rev, new.updated_at, ops if small else None)
                )
            self._db.committed = tables
            self._db.commits += 1
            return Swap(swapped=True, found=found)


def _missed(tables: Tables, current: Session, found: Session) -> tuple[LoggedChange, ...]:
    if found.rev < current.rev or found.checkpoint_rev > current.rev:
        return ()
    revs = range(current.rev + 1, found.rev + 1)
    return tuple(tables.changes[(current.id, rev)] for rev in revs)


class FakeDatabase:
    """The committed rows, and the Database port over them: work runs right away on the
    calling thread (no pool, no deadline), and DatabaseUnavailable never happens unless a
    test says so (`down`, `fail_commits`)."""

    def __init__(self, quotas: Quotas = NO_QUOTAS, *, one_statement_swaps: bool = False) -> None:
        self.quotas = quotas
        self.one_statement_swaps = one_statement_swaps
        self.committed = Tables()
        self.lock = threading.Lock()
        self.writer = threading.RLock()
        self.transactions = 0
        self.commits = 0
        self.down = False
        self.fail_commits = 0
        self.commit_failure: BaseException = ConnectionError("the fake database went away")
        self.calls: list[str] = []
        """The names of the functions run through the Database port, in order."""

    def unit_of_work(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    async def in_database_thread(
        self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        self.calls.append(getattr(function, "__name__", repr(function)))
        return function(*args, **kwargs)

    async def in_session_thread(
        self, session_id: uuid.UUID, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        self.calls.append(getattr(function, "__name__", repr(function)))
        return function(*args, **kwargs)

    @property
    def tables(self) -> Tables:
        """The committed rows, to look at (a copy: changing it changes nothing)."""
        with self.lock:
            return self.committed.copy()


class FakeStore:
    """The snapshot store in memory. `down` makes every call StorageUnavailable; a URL is
    `memory://<key>?ttl=<seconds>`, and `download` takes the key as its token."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.down = False
        self.calls: list[tuple[str, str]] = []
        self.deadline_seconds = float(limits.STORAGE_DEADLINE_SECONDS)

    def _call(self, name: str, argument: str) -> None:
        self.calls.append((name, argument))
        if self.down:
            raise StorageUnavailable(f"the fake store is down ({name})")

    async def put(self, key: str, data: bytes) -> None:
        self._call("put", key)
        self.objects[key] = bytes(data)

    async def get(self, key: str) -> bytes | None:
        self._call("get", key)
        return self.objects.get(key)

    async def delete(self, key: str) -> None:
        self._call("delete", key)
        self.objects.pop(key, None)

    async def delete_many(self, keys: Sequence[str]) -> None:
        self._call("delete_many", ",".join(keys))
        for key in keys:
            self.objects.pop(key, None)

    async def delete_prefix(self, prefix: str) -> None:
        self._call("delete_prefix", prefix)
        for key in [k for k in self.objects if k.startswith(prefix)]:
            del self.objects[key]

    async def download(self, token: str) -> bytes:
        self._call("download", token)
        if token not in self.objects:
            raise NotFound()
        return self.objects[token]

    async def remove_leftovers(self, older_than_seconds: float) -> int:
        self._call("remove_leftovers", str(older_than_seconds))
        return 0

    async def check(self, deadline_seconds: float) -> None:
        self._call("check", str(deadline_seconds))
        await asyncio.sleep(0)

    def url(self, key: str, ttl_seconds: int) -> str:
        return f"memory://{key}?ttl={ttl_seconds}"


# mypy holds each fake to its Protocol here.
_database: ports.Database = FakeDatabase()
_unit_of_work: ports.UnitOfWork = _database.unit_of_work()
_store: ports.Store = FakeStore()
_tables = Tables()
_sessions: ports.SessionRepository = SessionRepository(_tables)
_log: ports.RevisionLog = RevisionLog(_tables, [])
_telemetry: ports.TelemetryRepository = TelemetryRepository(_tables)
_snapshots: ports.SnapshotRepository = SnapshotRepository(_tables)
_idempotency: ports.IdempotencyRepository = IdempotencyRepository(_tables)
_deletions: ports.PendingDeletions = PendingDeletions(_tables)
_usage: ports.UsageRepository = UsageRepository(_tables, NO_QUOTAS)
_retention: ports.RetentionSchedule = RetentionSchedule(_tables)
