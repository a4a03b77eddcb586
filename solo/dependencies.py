"""The composition root: every part of a serving process, built once per app from the
settings, and handed on as narrow views (services get `database` and `store`, middleware
the one part it needs)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from solo import limits
from solo.db.engine import make_engine
from solo.db.group_commit import GroupCommit
from solo.db.listener import revision_listener
from solo.db.runner import DatabaseThreads
from solo.db.writer_lock import WriterLock
from solo.domain.model import Clock
from solo.runtime import descriptors
from solo.runtime.keys_in_flight import KeysInFlight
from solo.runtime.metrics import Exposition, Metrics
from solo.runtime.rate_limits import RateLimits
from solo.runtime.revision_feed import RevisionEvents
from solo.runtime.snapshot_writes import SnapshotWrites
from solo.runtime.state_cache import StateCache
from solo.runtime.stream_slots import StreamSlots
from solo.security.bearer import TokenVerifier
from solo.security.session_tokens import SessionTokens
from solo.services import streams
from solo.services.health import Readiness
from solo.settings import Settings
from solo.storage import BlobStore
from solo.storage.factory import open_blob_store
from solo.storage.guarded import GuardedStore

SESSION_TOKEN_PURPOSES = ("beacon", "events")


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Dependencies:
    settings: Settings
    database: DatabaseThreads
    """The only way to the database: units of work on bounded threads."""
    states: StateCache
    feed: RevisionEvents
    """Each session's new revisions, fanned out to the event streams open in this process."""
    keys_in_flight: KeysInFlight
    """The Idempotency-Keys whose requests this process is running."""
    snapshot_writes: SnapshotWrites
    """The snapshot objects this process is writing."""
    stream_slots: StreamSlots
    """Places of event streams: per user and session (shared with Redis), per process."""
    token_verifier: TokenVerifier
    session_tokens: dict[str, SessionTokens]
    """The tokens of `beacon_url` and `events_url`, by purpose."""
    rate_limits: RateLimits
    store: GuardedStore
    """The snapshot store, on its own threads, each call within a deadline."""
    metrics: Metrics
    exposition: Exposition
    """What `/metrics` answers, on its own thread, computed at most once a second."""
    clock: Clock = utc_now

    @classmethod
    def build(
        cls, settings: Settings, *, clock: Clock = utc_now, blob_store: BlobStore | None = None
    ) -> Dependencies:
        """Everything, from the settings; `blob_store` replaces the one SOLO_STORAGE_URL
        names (tests hand in one whose calls they can make fail)."""
        metrics = Metrics()
        states = StateCache(settings.state_cache_mb * 1024 * 1024)
        engine = make_engine(
            settings.database_url,
            pool_size=settings.database_threads,
            wait_seconds=settings.database_wait_seconds,
        )
        database = DatabaseThreads(
            engine,
            group_commit=_group_commit(settings, engine, metrics),
            threads=settings.database_threads,
            wait_seconds=settings.database_wait_seconds,
            metrics=metrics,
            quotas=settings.quotas,
        )
        return cls(
            settings=settings,
            database=database,
            states=states,
            feed=_revision_feed(settings.database_url, database, clock),
            keys_in_flight=KeysInFlight(),
            snapshot_writes=SnapshotWrites(poll_seconds=limits.SNAPSHOT_CLAIM_POLL_SECONDS),
            stream_slots=StreamSlots(settings, descriptors.streams_allowed()),
            token_verifier=TokenVerifier(settings),
            session_tokens={
                purpose: SessionTokens(settings.effective_signing_key, purpose)
                for purpose in SESSION_TOKEN_PURPOSES
            },
            rate_limits=RateLimits(settings),
            store=GuardedStore(
                blob_store or open_blob_store(settings, clock),
                settings.storage_threads,
                settings.storage_deadline_seconds,
                metrics.storage,
            ),
            metrics=metrics,
            exposition=Exposition(metrics, states),
            clock=clock,
        )

    @functools.cached_property
    def readiness(self) -> Readiness:
        return Readiness(self.database, self.store)

    def close(self) -> None:
        self.feed.close()
        self.token_verifier.close()
        self.stream_slots.close()
        self.store.close()
        self.exposition.close()
        self.database.close()


def _revision_feed(database_url: str, database: DatabaseThreads, clock: Clock) -> RevisionEvents:
    on_postgresql = make_url(database_url).get_backend_name() == "postgresql"
    return RevisionEvents(
        watch=lambda ids, until: streams.watch(database.unit_of_work(), ids, until),
        catch_up=lambda delivered: streams.news(database.unit_of_work(), delivered),
        listen=revision_listener(database_url) if on_postgresql else None,
        polling=not on_postgresql,
        run_blocking=database.in_database_thread,
        clock=clock,
    )


def _group_commit(settings: Settings, engine: sa.Engine, metrics: Metrics) -> GroupCommit | None:
    """SQLite's writers of this process share transactions and syncs (none on PostgreSQL,
    which syncs its own concurrent commits together)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite":
        return None
    in_memory = not url.database or url.database == ":memory:"
    lock_path = None if in_memory else f"{url.database}.writer-lock"
    writer_lock = WriterLock(lock_path, settings.database_wait_seconds)
    return GroupCommit(engine, writer_lock, committed=metrics.group_commit)
