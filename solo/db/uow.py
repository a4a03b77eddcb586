"""The unit of work: one database transaction around a service call."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from solo.db import sessions
from solo.db.deletions import PendingDeletions
from solo.db.group_commit import GroupCommit
from solo.db.idempotency import IdempotencyRepository
from solo.db.retention import RetentionSchedule
from solo.db.revisions import RevisionLog
from solo.db.sessions import SessionRepository
from solo.db.snapshots import SnapshotRepository
from solo.db.telemetry import TelemetryRepository
from solo.db.usage import UsageRepository
from solo.domain.model import AnsweredKey, Session, Swap
from solo.domain.quotas import Quotas


class UnitOfWork:
    """`with uow:` opens a read transaction, `with uow.write():` a write transaction;
    leaving either without `commit()` rolls it back."""

    def __init__(self, engine: sa.Engine, group_commit: GroupCommit | None, quotas: Quotas) -> None:
        self._engine = engine
        self._group_commit = group_commit
        self._quotas = quotas
        self._exits = contextlib.ExitStack()
        self._commit: Callable[[], None] = _nothing

    def __enter__(self) -> UnitOfWork:
        return self._begin(write=False)

    @property
    def swaps_in_one_statement(self) -> bool:
        """Whether `advance_and_log` is available: PostgreSQL through psycopg, whose
        connection it uses as it is (solo.db.postgres_driver)."""
        return self._engine.dialect.driver == "psycopg"

    def advance_and_log(
        self, current: Session, new: Session, ops: bytes, *, key: AnsweredKey | None = None
    ) -> Swap:
        """The compare-and-swap of a write that needs no checkpoint, with its logged change,
        as one autocommitted statement: one round trip to the database, a lost one's
        catch-up included."""
        from solo.db import postgres_driver  # imports psycopg: PostgreSQL's only

        with postgres_driver.autocommitted(self._engine) as statements:
            return sessions.advance_and_log(
                statements, current, new, ops, bytes_quota=self._quotas.bytes, key=key
            )

    @contextlib.contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction. On SQLite it is a savepoint in this process's next group
        commit (solo.db.group_commit), which starts as IMMEDIATE behind the writer lock, so
        it never meets another writer inside SQLite; `commit()` returns once it is durable."""
        try:
            yield self._begin(write=True)
        finally:
            self._exits.close()

    def _begin(self, *, write: bool) -> UnitOfWork:
        if write and self._group_commit is not None:
            member = self._exits.enter_context(self._group_commit.member())
            self._commit = member.commit
            return self._on(member.connection)
        connection = self._engine.connect()
        self._exits.callback(connection.close)
        if not write and connection.dialect.name == "postgresql":
            # A read costs one round trip per statement instead of two more for BEGIN and
            # ROLLBACK; what a read puts together is bounded by the rev it read first.
            connection.execution_options(isolation_level="AUTOCOMMIT")
        transaction = connection.begin()
        self._exits.callback(_rolled_back, transaction)
        self._commit = transaction.commit
        return self._on(connection)

    def _on(self, connection: sa.Connection) -> UnitOfWork:
        self.sessions = SessionRepository(connection)
        self.log = RevisionLog(connection)
        self.telemetry = TelemetryRepository(connection)
        self.snapshots = SnapshotRepository(connection)
        self.idempotency = IdempotencyRepository(connection)
        self.deletions = PendingDeletions(connection)
        self.usage = UsageRepository(connection, self._quotas)
        self.retention = RetentionSchedule(connection)
        self._connection = connection
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._exits.close()

    def commit(self) -> None:
        self._commit()

    def ping(self) -> None:
        self._connection.execute(sa.text("SELECT 1"))


def _rolled_back(transaction: sa.RootTransaction) -> None:
    if transaction.is_active:
        transaction.rollback()


def _nothing() -> None:
    """Committing before anything began: nothing to commit."""
