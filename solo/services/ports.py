"""What the services need from the world, as Protocols: a unit of work with its
repositories, a way to run blocking database work, and the snapshot store.

solo.db implements the unit of work (SQLAlchemy Core), solo.storage the store, and
solo.dependencies hands them in; tests/support/fakes.py implements the unit of work in
memory for fast service tests. Nothing here imports an implementation.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import ParamSpec, Protocol, TypeVar

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

P = ParamSpec("P")
T = TypeVar("T")


class SessionRepository(Protocol):
    def add(self, session: Session, state: bytes) -> None:
        """A new session, with its state as the checkpoint of its first rev."""

    def get(
        self, owner: str, session_id: uuid.UUID, *, for_update: bool = False, held: bool = False
    ) -> Session | None:
        """The owner's session's head; `for_update` locks its row for the transaction,
        `held` only against its deletion."""

    def list_page(self, owner: str, after: PageCursor | None, limit: int) -> list[Session]:
        """The owner's sessions, newest first, after the cursor."""

    def advance(self, current: Session, new: Session) -> bool:
        """The compare-and-swap: the head becomes `new` only if it is still `current`."""

    def watch(self, session_ids: list[uuid.UUID], until: dt.datetime) -> None:
        """Mark the sessions as streamed to some client until `until`."""

    def heads(self, session_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, dt.datetime]]:
        """(rev, updated_at) of each of these sessions that exists, whoever owns it."""

    def delete(self, owner: str, session_id: uuid.UUID, expected_rev: int) -> bool:
        """Delete the session and everything it owns, if still at `expected_rev`."""


class RevisionLog(Protocol):
    def announce(
        self, session_id: uuid.UUID, rev: int, at: dt.datetime, ops: bytes | None = None
    ) -> None:
        """Tell the other server processes about a revision of a watched session."""

    def announce_deletion(self, session_id: uuid.UUID) -> None:
        """Tell the other server processes that a watched session is gone."""

    def append(self, session_id: uuid.UUID, change: LoggedChange) -> None: ...

    def save_checkpoint(self, session_id: uuid.UUID, rev: int, state: bytes) -> None: ...

    def checkpoint(self, session_id: uuid.UUID, rev: int) -> bytes | None: ...

    def newest_checkpoint(self, session_id: uuid.UUID, at_most: int) -> tuple[int, bytes] | None:
        """The newest checkpoint of a rev no later than `at_most`, with its rev."""

    def changes(
        self, session_id: uuid.UUID, after_rev: int, up_to_rev: int, limit: int | None = None
    ) -> list[LoggedChange]:
        """The kept changes after `after_rev` up to `up_to_rev`, in order."""

    def sizes(
        self, session_id: uuid.UUID, after_rev: int, up_to_rev: int, limit: int
    ) -> list[ChangeSize]:
        """The same, without their content: only how big each is."""

    def ops_between(
        self, session_id: uuid.UUID, first_rev: int, last_rev: int
    ) -> dict[int, bytes | None]:
        """The ops of the kept changes first_rev … last_rev (None for whole states)."""

    def revisions(
        self, session_id: uuid.UUID, after_rev: int, up_to_rev: int
    ) -> list[tuple[int, dt.datetime, bytes | None]]:
        """(rev, at, ops) of the kept changes after `after_rev` up to `up_to_rev`; the ops
        only when small enough to travel with an event."""

    def oldest_kept(self, session_id: uuid.UUID) -> int | None: ...

    def compact(
        self, session_id: uuid.UUID, *, head_rev: int, keep: KeptLog, kept_bytes: int
    ) -> Compacted:
        """Forget what the kept log no longer needs: the bytes freed, the rev cut at."""


class TelemetryRepository(Protocol):
    def record(self, owner: str, session_id: uuid.UUID, payload: object, now: dt.datetime) -> bool:
        """Store a beacon and touch last_seen_at; False if the session is not the owner's."""

    def keep_newest(self, session_id: uuid.UUID, keep: int) -> None: ...


class SnapshotRepository(Protocol):
    def claim(self, session_id: uuid.UUID, snapshot: StoredSnapshot, token: str) -> bool:
        """Record the snapshot as being written; False if its rev already has a row."""

    def complete(self, claim: SnapshotClaim) -> bool:
        """The object is written: the claim becomes the snapshot; False if it is gone."""

    def release(self, claim: SnapshotClaim) -> bool: ...

    def claims_before(self, moment: dt.datetime, limit: int) -> list[SnapshotClaim]: ...

    def get(self, session_id: uuid.UUID, rev: int) -> StoredSnapshot | None: ...

    def newest(
        self, session_id: uuid.UUID, limit: int, before_rev: int | None = None
    ) -> list[StoredSnapshot]: ...

    def every(self, session_id: uuid.UUID) -> list[StoredSnapshot]:
        """Every written snapshot of the session, newest first."""

    def sessions_after(self, after: uuid.UUID | None, limit: int) -> list[tuple[uuid.UUID, str]]:
        """(session, owner) of sessions with written snapshots, by id, after `after`."""

    def label(
        self, session_id: uuid.UUID, rev: int, labels: dict[str, object]
    ) -> StoredSnapshot | None:
        """Set the written snapshot's `name` and/or `pinned`; None if there is none."""

    def remove(self, session_id: uuid.UUID, revs: list[int]) -> list[StoredSnapshot]:
        """Delete these revs' written snapshots; the ones this transaction deleted."""

    def remove_all(self, session_id: uuid.UUID) -> int:
        """Delete the session's snapshots, claims included; the bytes they counted."""


class IdempotencyRepository(Protocol):
    def purge_expired(self, now: dt.datetime) -> None: ...

    def claim(self, owner: str, key: str, fingerprint: str, expires_at: dt.datetime) -> bool:
        """Record the key as in progress; False if it is already recorded."""

    def get(self, owner: str, key: str, *, now: dt.datetime) -> StoredIdempotencyKey | None:
        """The key's record, unless it expired."""

    def complete(self, owner: str, key: str, status_code: int, body: object) -> None: ...

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
        """Record a key with its write's answer, in the write's transaction (over an
        expired row of it); False when a live row holds the key (taken meanwhile)."""

    def forget(self, session_id: uuid.UUID, *, up_to_rev: int) -> None:
        """Forget the keys of the session's writes whose changes are no longer kept."""

    def release(self, owner: str, key: str) -> None: ...


class PendingDeletions(Protocol):
    def add(self, prefix: str, not_before: dt.datetime) -> None: ...

    def due(self, now: dt.datetime, limit: int) -> list[tuple[str, dt.datetime]]: ...

    def lease(self, prefix: str, seen: dt.datetime, until: dt.datetime) -> bool: ...

    def done(self, prefix: str) -> None: ...

    def done_unless_taken(self, prefix: str, not_before: dt.datetime) -> None:
        """Done, unless a sweeper took it since it was added (that one says when it is)."""

    def pending(self, prefix: str) -> bool: ...


class UsageRepository(Protocol):
    @property
    def quotas(self) -> Quotas: ...

    def of(self, owner: str) -> Usage: ...

    def open(self, owner: str) -> None:
        """The owner's usage row, at zero if they had none."""

    def charge(self, owner: str, *, sessions: int = 0, bytes: int = 0) -> bool:
        """Add to the owner's usage (take off, when negative) unless a part that grows
        would pass its quota: then False, and nothing changes."""


class RetentionSchedule(Protocol):
    def due_at(self, session_id: uuid.UUID, at: dt.datetime) -> None: ...

    def due(self, now: dt.datetime, limit: int) -> list[tuple[uuid.UUID, str, dt.datetime]]:
        """(session, owner, due_at) of the sessions due by `now`, longest due first."""

    def lease(self, session_id: uuid.UUID, seen: dt.datetime, until: dt.datetime) -> bool: ...

    def reviewed(
        self, session_id: uuid.UUID, leased: dt.datetime, then: dt.datetime | None
    ) -> None: ...


class UnitOfWork(Protocol):
    """`with uow:` is a read transaction, `with uow.write():` a write transaction; leaving
    either without `commit()` rolls it back."""

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def log(self) -> RevisionLog: ...

    @property
    def telemetry(self) -> TelemetryRepository: ...

    @property
    def snapshots(self) -> SnapshotRepository: ...

    @property
    def idempotency(self) -> IdempotencyRepository: ...

    @property
    def deletions(self) -> PendingDeletions: ...

    @property
    def usage(self) -> UsageRepository: ...

    @property
    def retention(self) -> RetentionSchedule: ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(self, *exc_info: object) -> None: ...

    def write(self) -> contextlib.AbstractContextManager[UnitOfWork]: ...

    def commit(self) -> None: ...

    def ping(self) -> None: ...

    @property
    def swaps_in_one_statement(self) -> bool:
        """Whether `advance_and_log` is available (PostgreSQL through psycopg)."""

    def advance_and_log(
        self, current: Session, new: Session, ops: bytes, *, key: AnsweredKey | None = None
    ) -> Swap:
        """A swap that needs no checkpoint, with its logged change (and its key, when it
        came with one) in one autocommitted statement: whether it swapped, the head it
        found, and the changes after `current` it lost to. Nothing, and no head, when the
        key is taken (the locked path then decides)."""


class Database(Protocol):
    """Blocking database work, run off the event loop on the database's own threads."""

    def unit_of_work(self) -> UnitOfWork: ...

    async def in_database_thread(
        self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run on a database thread; DatabaseUnavailable if none takes it in time."""

    async def in_session_thread(
        self, session_id: uuid.UUID, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """The same, for work that may wait on the session's row: a session whose row is
        locked holds only a few threads."""


class Store(Protocol):
    """The snapshot store, each call on the store's own threads within a deadline
    (StorageUnavailable past it)."""

    async def put(self, key: str, data: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def delete_many(self, keys: Sequence[str]) -> None: ...

    async def delete_prefix(self, prefix: str) -> None: ...

    async def download(self, token: str) -> bytes: ...

    async def remove_leftovers(self, older_than_seconds: float) -> int: ...

    async def check(self, deadline_seconds: float) -> None: ...

    @property
    def deadline_seconds(self) -> float:
        """The longest one call may take, queueing included."""
        ...

    def url(self, key: str, ttl_seconds: int) -> str: ...
