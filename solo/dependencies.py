"""What handlers and middleware are handed: built once per app by create_app."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from solo import limits
from solo.auth import SessionTokens, TokenVerifier
from solo.db.engine import make_engine
from solo.db.listener import revision_listener
from solo.db.uow import UnitOfWork
from solo.db.writer_lock import WriterLock
from solo.domain.model import Clock
from solo.events import RevisionEvents
from solo.rate_limits import RateLimits
from solo.services import events as events_service
from solo.settings import Settings
from solo.state_cache import StateCache
from solo.storage import BlobStore
from solo.storage.factory import open_blob_store
from solo.storage.local import LocalBlobStore

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
    token_verifier: TokenVerifier
    session_tokens: dict[str, SessionTokens]
    """The tokens of `beacon_url` and `events_url`, by purpose."""
    rate_limits: RateLimits
    blob_store: BlobStore
    file_server: LocalBlobStore | None
    """The blob store when it is a local folder, whose URLs this server answers."""
    clock: Clock = utc_now

    @classmethod
    def build(cls, settings: Settings, clock: Clock = utc_now) -> Dependencies:
        engine = make_engine(settings.database_url, pool_size=settings.database_threads)
        store = open_blob_store(settings, clock)
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
            TokenVerifier(settings),
            {
                purpose: SessionTokens(settings.effective_signing_key, purpose)
                for purpose in SESSION_TOKEN_PURPOSES
            },
            RateLimits(settings),
            store,
            store if isinstance(store, LocalBlobStore) else None,
            clock,
        )

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.engine, self.writer_lock)

    async def in_database_thread(
        self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run blocking database work on the database threads, off the event loop."""
        return await _in_thread(self.database_threads, function, *args, **kwargs)

    def close(self) -> None:
        self.events.close()
        self.database_threads.shutdown(wait=True)
        self.engine.dispose()
        if self.writer_lock is not None:
            self.writer_lock.close()


async def _in_thread(
    threads: concurrent.futures.Executor,
    function: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    loop = asyncio.get_running_loop()
    # Like asyncio.to_thread: the work sees the request's context (connexion's `request`).
    call = functools.partial(contextvars.copy_context().run, function, *args, **kwargs)
    return await loop.run_in_executor(threads, call)


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
        poll=None if on_postgresql else lambda seen: events_service.news(unit_of_work(), seen),
        listen=revision_listener(database_url) if on_postgresql else None,
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
