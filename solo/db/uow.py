"""The unit of work: one database transaction around a service call."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from solo.db.repository import SessionRepository
from solo.db.snapshots import IdempotencyRepository, SnapshotRepository
from solo.db.telemetry import TelemetryRepository


def session_factory(engine: sa.Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


class UnitOfWork:
    """`with uow:` opens a transaction; leaving without `commit()` rolls it back."""

    def __init__(self, session_factory: sessionmaker) -> None:
        self._session_factory = session_factory

    def __enter__(self) -> UnitOfWork:
        self._db = self._session_factory()
        self.sessions = SessionRepository(self._db)
        self.telemetry = TelemetryRepository(self._db)
        self.snapshots = SnapshotRepository(self._db)
        self.idempotency = IdempotencyRepository(self._db)
        return self

    def __exit__(self, *exc_info) -> None:
        self._db.rollback()
        self._db.close()

    def commit(self) -> None:
        self._db.commit()

    def ping(self) -> None:
        self._db.execute(sa.text("SELECT 1"))
