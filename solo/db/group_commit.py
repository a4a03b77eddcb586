"""Group commit on SQLite: the writers of one process share one transaction and one sync.

At `synchronous=FULL` every commit syncs the write-ahead log before it returns (about
160 µs on this machine kind), and SQLite takes one writer at a time. So the writes that
arrive together join one batch: one `BEGIN IMMEDIATE` (behind the process's writer lock
and the file lock every process shares), each write in its own SAVEPOINT — a write that
fails rolls back to it and takes none of its neighbours down — and one COMMIT, synced
once, after which every write of the batch is answered. The last write of a batch to
finish commits it; a write whose batch fails to commit fails too (nothing of it was
acknowledged). Writes that arrive while a batch commits wait for the next one.

A batch holds the members' statements one at a time (SQLite runs one statement at a time
on a connection anyway), and at most GROUP_COMMIT_MAX_WRITES members, so a stream of
writers cannot keep a batch open forever.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from solo import limits
from solo.db import sqlite_driver
from solo.db.writer_lock import WriterLock

log = logging.getLogger(__name__)


@dataclasses.dataclass(eq=False)
class _Batch:
    connection: sa.Connection
    transaction: sa.RootTransaction
    statements: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    joined: int = 0
    pending: int = 0
    """Members that joined and have not yet released or rolled back their savepoint."""
    released: int = 0
    """Members whose savepoint is released: the writes the commit makes durable."""
    closed: bool = False
    committed: threading.Event = dataclasses.field(default_factory=threading.Event)
    error: BaseException | None = None


class GroupCommit:
    def __init__(
        self,
        engine: sa.Engine,
        writer_lock: WriterLock,
        *,
        committed: Callable[[int], None],
        max_writes: int = limits.GROUP_COMMIT_MAX_WRITES,
    ) -> None:
        """`committed` hears how many writes each commit made durable."""
        self._engine = engine
        self._writer_lock = writer_lock
        self._committed = committed
        self._max_writes = max_writes
        self._changed = threading.Condition()
        self._batch: _Batch | None = None
        self._opening = False

    def close(self) -> None:
        self._writer_lock.close()

    @property
    def open_writes(self) -> int:
        """The writes the batch open now took in (0 when none is open)."""
        with self._changed:
            return 0 if self._batch is None else self._batch.joined

    @contextlib.contextmanager
    def member(self) -> Iterator[Member]:
        """A write in the next batch, in its own savepoint: `commit()` releases it and
        returns once the batch is durable; leaving without it rolls the savepoint back."""
        batch = self._join()
        batch.statements.acquire()
        member = Member(self, batch)
        try:
            member.begin()
            yield member
        finally:
            if not member.left:
                member.roll_back()

    def _join(self) -> _Batch:
        with self._changed:
            while True:
                batch = self._batch
                if batch is not None and not batch.closed and batch.joined < self._max_writes:
                    batch.joined += 1
                    batch.pending += 1
                    return batch
                if batch is None and not self._opening:
                    self._opening = True
                    break
                self._changed.wait()
        try:
            opened = self._open()
        finally:
            with self._changed:
                self._opening = False
                self._changed.notify_all()
        with self._changed:
            opened.joined = opened.pending = 1
            self._batch = opened
            self._changed.notify_all()
        return opened

    def _open(self) -> _Batch:
        """A batch's connection, taken from the pool before the writer lock: every process
        waits for the lock, so it is held only for what needs it."""
        connection = self._engine.connect()
        try:
            connection.execution_options(sqlite_begin="IMMEDIATE")
            self._writer_lock.acquire()
            try:
                return _Batch(connection, connection.begin())
            except BaseException:
                self._writer_lock.release()
                raise
        except BaseException:
            connection.close()
            raise

    def finished(self, batch: _Batch, *, released: bool) -> None:
        """One member is done with its statements (`released`: it kept them); the last
        one commits the batch."""
        batch.statements.release()
        with self._changed:
            batch.released += released
            batch.pending -= 1
            if batch.pending:
                return
            batch.closed = True
        self._commit(batch)

    def _commit(self, batch: _Batch) -> None:
        """COMMIT (the sync), then the writer lock goes to the next batch at once, before
        the connection goes back to the pool and the members hear of it."""
        try:
            try:
                if batch.error is None:
                    batch.transaction.commit()
            except BaseException as error:
                batch.error = error
            try:
                if batch.error is not None:
                    # SQLite keeps a transaction whose COMMIT failed open, and SQLAlchemy
                    # would pool the connection as it is: drop it (closing rolls back).
                    batch.connection.invalidate()
            finally:
                self._writer_lock.release()
            self._put_back(batch)
        finally:
            with self._changed:
                self._batch = None
                self._changed.notify_all()
            batch.committed.set()

    def _put_back(self, batch: _Batch) -> None:
        """The connection back to the pool, and the commit counted. Neither can undo a
        commit that is durable, so a failure here is logged, not answered to its writes
        (a writer told "failed" would retry a write that is there)."""
        try:
            batch.connection.close()
            if batch.error is None:
                self._committed(batch.released)
        except Exception:
            log.exception("returning a batch's connection or counting its commit failed")


SAVEPOINT = "solo_write"
"""The members of a batch run one at a time, so one name serves them all. SQLAlchemy's
`begin_nested` names each savepoint anew, which makes every SAVEPOINT and RELEASE a
statement compiled afresh and cached once (200 µs of a 1 KiB diff's time, and a compiled
cache churned by names used once); they go to the driver as they are (solo.db.sqlite_driver)."""


class Member:
    """One write's place in a batch."""

    def __init__(self, group: GroupCommit, batch: _Batch) -> None:
        self._group = group
        self._batch = batch
        self._open = False
        """Whether this write's savepoint is set and neither released nor rolled back."""
        self.left = False

    @property
    def connection(self) -> sa.Connection:
        return self._batch.connection

    def begin(self) -> None:
        if self._batch.error is not None:
            raise self._batch.error  # the batch will not commit: nothing to add to it
        self._statement(f"SAVEPOINT {SAVEPOINT}")
        self._open = True

    def commit(self) -> None:
        """Release the savepoint, then wait until the batch is durable (or raise what its
        commit raised)."""
        assert self._open
        try:
            self._statement(f"RELEASE SAVEPOINT {SAVEPOINT}")
            self._open = False
        except BaseException:
            self.roll_back()
            raise
        self._leave(released=True)
        self._batch.committed.wait()
        if self._batch.error is not None:
            raise self._batch.error

    def roll_back(self) -> None:
        """Undo this write's savepoint and leave the batch without waiting for it. A
        savepoint that cannot be rolled back fails the whole batch: what it did must not
        commit with the others."""
        try:
            if self._open:
                self._statement(f"ROLLBACK TO SAVEPOINT {SAVEPOINT}")
                self._statement(f"RELEASE SAVEPOINT {SAVEPOINT}")
                self._open = False
        except BaseException as error:
            self._batch.error = error
            raise
        finally:
            self._leave(released=False)

    def _statement(self, statement: str) -> None:
        raw = sqlite_driver.driver(self.connection)
        assert raw is not None, "a batch is an SQLite transaction"
        raw.execute(statement, ())

    def _leave(self, *, released: bool) -> None:
        self.left = True
        self._group.finished(self._batch, released=released)
