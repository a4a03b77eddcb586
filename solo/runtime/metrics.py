"""Prometheus metrics, correct with several worker processes.

`solo serve` sets PROMETHEUS_MULTIPROC_DIR to a folder of its own before any worker
starts: every process then writes its values there, and whichever process answers
`/metrics` adds them all up (prometheus-client's multiprocess mode). Without it (tests, an
app embedded elsewhere) the values live in this object's own registry.

Labels are bounded: operations are the spec's operationIds (`none` for what no operation
routes to), statuses and error codes are the contract's, calls are the store's verbs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import time
from collections.abc import Callable
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from solo import PROMETHEUS_MULTIPROC_DIR, limits
from solo.runtime.state_cache import StateCache

NO_OPERATION = "none"
LIFESPAN_STATE_KEY = "solo.runtime.metrics"
"""The app's Metrics in the lifespan state, where uvicorn's protocol (solo/http_protocol.py)
finds it to count the answers it gives without the app."""
_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

Outcome = Literal["ok", "error", "late"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._requests = Histogram(
            "solo_http_request_duration_seconds",
            "Requests by operation and status, and how long they took to answer.",
            ["operation", "status"],
            buckets=_SECONDS,
            registry=self.registry,
        )
        self._errors = Counter(
            "solo_http_errors",
            "Error answers by operation and code: conflicts (precondition_failed, "
            "rev_mismatch), refusals (payload_too_large, unsupported_media_type, "
            "rate_limited), unavailable dependencies, ...",
            ["operation", "code"],
            registry=self.registry,
        )
        self._database = Histogram(
            "solo_database_call_duration_seconds",
            "Database work by outcome: ok, error (the database failed), late (no database "
            "thread took it in time); the time on a database thread.",
            ["outcome"],
            buckets=_SECONDS,
            registry=self.registry,
        )
        self._storage = Histogram(
            "solo_storage_call_duration_seconds",
            "Snapshot store calls by verb and outcome (ok, error, late: past its deadline).",
            ["call", "outcome"],
            buckets=_SECONDS,
            registry=self.registry,
        )
        self._group_commits = Histogram(
            "solo_group_commit_writes",
            "SQLite only: the writes each transaction committed (with one sync of the "
            "write-ahead log) for them all.",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self._cache = Counter(
            "solo_state_cache_lookups",
            "State cache lookups by result (hit, miss): the hit ratio.",
            ["result"],
            registry=self.registry,
        )
        self._collected = Counter(
            "solo_snapshots_collected",
            "Snapshots removed, by reason: retention (the policy let them go) or deleted "
            "(a user deleted one).",
            ["reason"],
            registry=self.registry,
        )
        self._collected_bytes = Counter(
            "solo_snapshot_bytes_collected",
            "Bytes of the snapshot documents removed, by reason (as solo_snapshots_collected).",
            ["reason"],
            registry=self.registry,
        )
        self._cache_seen = (0, 0)
        # Each request observes these: a labelled series is looked up once, not per call.
        self._request_series: dict[tuple[str, int], Histogram] = {}
        self._database_series = {
            outcome: self._database.labels(outcome) for outcome in ("ok", "error", "late")
        }

    def request(self, operation: str | None, status: int, seconds: float) -> None:
        key = (operation or NO_OPERATION, status)
        series = self._request_series.get(key)
        if series is None:
            series = self._request_series[key] = self._requests.labels(key[0], str(status))
        series.observe(seconds)

    def error(self, operation: str | None, code: str) -> None:
        self._errors.labels(operation or NO_OPERATION, code).inc()

    def database(self, outcome: Outcome, seconds: float) -> None:
        self._database_series[outcome].observe(seconds)

    def group_commit(self, writes: int) -> None:
        self._group_commits.observe(writes)

    def storage(self, call: str, outcome: Outcome, seconds: float) -> None:
        self._storage.labels(call, outcome).observe(seconds)

    def collected(self, reason: Literal["retention", "deleted"], sizes: list[int]) -> None:
        self._collected.labels(reason).inc(len(sizes))
        self._collected_bytes.labels(reason).inc(sum(sizes))

    def count_cache(self, cache: StateCache) -> None:
        """Add the cache's lookups since the last call (the cache counts them itself)."""
        hits, misses = cache.hits, cache.misses
        seen_hits, seen_misses = self._cache_seen
        self._cache_seen = (hits, misses)
        self._cache.labels("hit").inc(max(0, hits - seen_hits))
        self._cache.labels("miss").inc(max(0, misses - seen_misses))

    def exposition(self) -> bytes:
        """The text format of every process's values (blocking: it reads their files)."""
        if os.environ.get(PROMETHEUS_MULTIPROC_DIR):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


class Exposition:
    """What `/metrics` answers, computed at most once per METRICS_CACHE_SECONDS in this
    process, on a thread of its own, and shared by every scrape that arrives while it is
    computed: a flood of scrapes costs one reading of the workers' files a second, and
    takes no thread that requests need (connexion runs blocking work on the default pool).
    A failed computation is not kept: the next scrape tries again."""

    def __init__(
        self,
        metrics: Metrics,
        states: StateCache,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._states = states
        self._monotonic = monotonic
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="solo-metrics")
        self._computing: asyncio.Task[bytes] | None = None
        self._kept: tuple[float, bytes] | None = None

    async def text(self) -> bytes:
        now = self._monotonic()
        if self._kept is not None and now - self._kept[0] < limits.METRICS_CACHE_SECONDS:
            return self._kept[1]
        if self._computing is None:
            self._computing = asyncio.get_running_loop().create_task(self._compute(now))
        return await asyncio.shield(self._computing)

    async def _compute(self, started: float) -> bytes:
        try:
            self._metrics.count_cache(self._states)
            loop = asyncio.get_running_loop()
            text = await loop.run_in_executor(self._thread, self._metrics.exposition)
            self._kept = (started, text)
            return text
        finally:
            self._computing = None

    def close(self) -> None:
        self._thread.shutdown(wait=True)
