"""The database as services use it (solo.services.ports.Database): units of work, run on
the database's own bounded threads, each job started within a deadline.

Database work never runs on the event loop. A job no thread has taken within
SOLO_DATABASE_WAIT_SECONDS is DatabaseUnavailable (503); requests about one session hold at most
THREADS_PER_SESSION threads at a time, so a session whose row is locked cannot take them
all. A failure that means "the database does not answer" (solo.db.failures) is turned into
DatabaseUnavailable here, on the thread that met it.
"""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import sqlalchemy as sa

from solo import limits
from solo.db.failures import unavailable
from solo.db.group_commit import GroupCommit
from solo.db.uow import UnitOfWork
from solo.domain.errors import DatabaseUnavailable, DomainError
from solo.domain.quotas import Quotas
from solo.runtime.bulkheads import KeyedGate, Late, started_within
from solo.runtime.metrics import Metrics, Outcome

P = ParamSpec("P")
T = TypeVar("T")


class DatabaseThreads:
    def __init__(
        self,
        engine: sa.Engine,
        *,
        group_commit: GroupCommit | None,
        threads: int,
        wait_seconds: int,
        metrics: Metrics,
        quotas: Quotas,
    ) -> None:
        self.engine = engine
        self._quotas = quotas
        self._group_commit = group_commit
        """SQLite only: the writes of this process share transactions and syncs."""
        self._threads = concurrent.futures.ThreadPoolExecutor(threads, thread_name_prefix="solo-db")
        self._wait = wait_seconds
        self._gate = KeyedGate(limits.THREADS_PER_SESSION, wait_seconds)
        self._metrics = metrics

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self._group_commit, self._quotas)

    async def in_database_thread(
        self, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run blocking database work on the database threads, off the event loop:
        DatabaseUnavailable if none takes it within the wait."""
        timed = self._timed(function, *args, **kwargs)
        try:
            return await started_within(self._threads, self._wait, timed)
        except Late:
            self._metrics.database("late", self._wait)
            raise DatabaseUnavailable("no database thread was free in time") from None

    async def in_session_thread(
        self, session_id: uuid.UUID, function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Database work that may wait on the session's row (a write): at most
        THREADS_PER_SESSION of those per session hold database threads; the rest wait here
        on the event loop."""
        try:
            async with self._gate.held(session_id):
                return await self.in_database_thread(function, *args, **kwargs)
        except Late:
            raise DatabaseUnavailable("the session's database threads stayed busy") from None

    def _timed(
        self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> Callable[[], T]:
        def timed() -> T:
            started = time.perf_counter()
            outcome: Outcome = "error"
            try:
                result = function(*args, **kwargs)
                outcome = "ok"
                return result
            except DomainError as error:
                # An answer about the request (404, 412, ...): the database worked.
                outcome = "error" if isinstance(error, DatabaseUnavailable) else "ok"
                raise
            except Exception as exc:
                translated = unavailable(exc)
                if translated is None:
                    raise
                raise translated from exc
            finally:
                self._metrics.database(outcome, time.perf_counter() - started)

        return timed

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self.engine.dispose()
        if self._group_commit is not None:
            self._group_commit.close()
