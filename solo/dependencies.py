"""What handlers and middleware are handed: built once per app by create_app."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import functools
import time
import uuid
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from solo import descriptors, limits
from solo.auth import SessionTokens, TokenVerifier
from solo.bulkheads import KeyedGate, Late, started_within
from solo.db.engine import make_engine
from solo.db.listener import revision_listener
from solo.db.uow import UnitOfWork
from solo.db.writer_lock import WriterLock
from solo.domain.model import Clock
from solo.errors import SoloError, Unavailable
from solo.events import RevisionEvents
from solo.metrics import Metrics, Outcome
from solo.rate_limits import RateLimits
from solo.services import events as events_service
from solo.services.health import Readiness
from solo.settings import Settings
from solo.state_cache import StateCache
from solo.storage import BlobStore
from solo.storage.factory import open_blob_store
from solo.storage.guarded import GuardedStore
from solo.storage.local import LocalBlobStore
from solo.stream_slots import StreamSlots

P = ParamSpec("P")
SESSION_TOKEN_PURPOSES = ("beacon", "events")
T = TypeVar("T")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True)
class Dependencies:
    settings: Settings
    engine: sa.Engine
    writer_lock: WriterLock | None
    """SQLite only: writers queue here, not in SQLite's busy handler."""
    database_threads: concurrent.futures.ThreadPoolExecutor
    """The only threads that talk to the database; the pool has a connection for each."""
    states: StateCache
    events: RevisionEvents
    stream_slots: StreamSlots
    """Places of event streams: per user and session (shared with Redis), per process."""
    token_verifier: TokenVerifier
    session_tokens: dict[str, SessionTokens]
    """The tokens of `beacon_url` and `events_url`, by purpose."""
    rate_limits: RateLimits
    blob_store: BlobStore
    """The store itself, blocking: call it through `storage` on the event loop."""
    storage: GuardedStore
    """The store on its own threads, each call within a deadline."""
    file_server: LocalBlobStore | None
    """The blob store when it is a local folder, whose URLs this server answers."""
    session_gate: KeyedGate
    metrics: Metrics
    clock: Clock = utc_now

    @classmethod
    def build(cls, settings: Settings, clock: Clock = utc_now) -> Dependencies:
        engine = make_engine(settings.database_url, pool_size=settings.database_threads)
        store = open_blob_store(settings, clock)
        metrics = Metrics()
        writer_lock = _writer_lock(settings.database_url)
        threads = concurrent.futures.ThreadPoolExecutor(
            settings.database_threads, thread_name_prefix="solo-db"
        )
        return cls(
            settings,
            engine,
            writer_lock,
            threads,
            StateCache(settings.state_cache_mb * 1024 * 1024),
            _revision_events(settings.database_url, engine, writer_lock, threads, clock),
            StreamSlots(settings, descriptors.streams_allowed()),
            TokenVerifier(settings),
            {
                purpose: SessionTokens(settings.effective_signing_key, purpose)
                for purpose in SESSION_TOKEN_PURPOSES
            },
            RateLimits(settings),
            store,
            GuardedStore(
                store, settings.storage_threads, limits.STORAGE_DEADLINE_SECONDS, metrics.storage
            ),
            store if isinstance(store, LocalBlobStore) else None,
            KeyedGate(limits.THREADS_PER_SESSION, limits.DATABASE_WAIT_SECONDS),
            metrics,
            clock,
        )

    @functools.cached_property
    def readiness(self) -> Readiness:
        return Readiness(self, self.storage)

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.writer_lock)

    async def in_database_thread(
        self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run blocking database work on the database threads, off the event loop: 503 if
        none takes it within DATABASE_WAIT_SECONDS."""
        timed = _timed(self.metrics, function, *args, **kwargs)
        try:
            return await started_within(self.database_threads, limits.DATABASE_WAIT_SECONDS, timed)
        except Late:
            self.metrics.database("late", limits.DATABASE_WAIT_SECONDS)
            raise Unavailable({"database": "unavailable"}) from None

    async def in_session_thread(
        self, session_id: uuid.UUID, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Database work that may wait on the session's row (a write): at most
        THREADS_PER_SESSION of those per session hold database threads; the rest wait here
        on the event loop, so a session whose row is locked cannot take every thread."""
        try:
            async with self.session_gate.held(session_id):
                return await self.in_database_thread(function, *args, **kwargs)
        except Late:
            raise Unavailable({"database": "unavailable"}) from None

    def close(self) -> None:
        self.events.close()
        self.stream_slots.close()
        self.storage.close()
        self.database_threads.shutdown(wait=True)
        self.engine.dispose()
        if self.writer_lock is not None:
            self.writer_lock.close()


def _timed(
    metrics: Metrics, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> Callable[[], T]:
    def timed() -> T:
        started = time.perf_counter()
        outcome: Outcome = "error"
        try:
            result = function(*args, **kwargs)
            outcome = "ok"
            return result
        except SoloError:
            outcome = "ok"  # an answer about the request (404, 412, ...): the database worked
            raise
        finally:
            metrics.database(outcome, time.perf_counter() - started)

    return timed


async def _in_thread(
    threads: concurrent.futures.Executor,
    function: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    try:
        return await started_within(
            threads, limits.DATABASE_WAIT_SECONDS, function, *args, **kwargs
        )
    except Late:
        raise Unavailable({"database": "unavailable"}) from None


def _revision_events(
    database_url: str,
    engine: sa.Engine,
    writer_lock: WriterLock | None,
    threads: concurrent.futures.Executor,
    clock: Clock,
) -> RevisionEvents:
    def unit_of_work() -> UnitOfWork:
        return UnitOfWork(engine, writer_lock)

    on_postgresql = make_url(database_url).get_backend_name() == "postgresql"
    return RevisionEvents(
        watch=lambda ids, until: events_service.watch(unit_of_work(), ids, until),
        catch_up=lambda delivered: events_service.news(unit_of_work(), delivered),
        listen=revision_listener(database_url) if on_postgresql else None,
        polling=not on_postgresql,
        run_blocking=functools.partial(_in_thread, threads),
        clock=clock,
    )


def _writer_lock(database_url: str) -> WriterLock | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    in_memory = not url.database or url.database == ":memory:"
    lock_path = None if in_memory else f"{url.database}.writer-lock"
    return WriterLock(lock_path, limits.DATABASE_WAIT_SECONDS)
