"""Per-user budgets by endpoint group, counted by the `limits` library.

Counters live in the configured storage (memory, or Redis shared by every server
process). When Redis does not answer, the server keeps serving and counts in its own
memory until Redis is back: an outage of the counter store must never take the API
down with it (see the README).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from solo import limits
from solo.settings import Settings

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Decision:
    group: str
    allowed: bool
    limit: int
    window: int
    remaining: int
    reset_at: int
    """Unix time at which the window starts again."""

    def retry_after(self, now: float) -> int:
        return min(self.window, max(1, math.ceil(self.reset_at - now)))

    def headers(self, now: float) -> dict[str, str]:
        seconds_left = min(self.window, max(0, math.ceil(self.reset_at - now)))
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
            "RateLimit-Policy": f'"{self.group}";q={self.limit};w={self.window}',
            "RateLimit": f'"{self.group}";r={self.remaining};t={seconds_left}',
        }


class LocalWindows:
    """Fixed windows counted in this process's memory, like the `limits` library counts
    them (a window starts with its first hit), without its expiry timer threads."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], tuple[int, float]] = {}
        self._lock = threading.Lock()

    def hit(self, item: RateLimitItem, group: str, user: str) -> tuple[bool, int, float]:
        """(allowed, remaining, reset time) after spending one unit if any is left."""
        now = time.time()
        key = (group, user)
        with self._lock:
            count, reset_at = self._windows.get(key, (0, 0.0))
            if reset_at <= now:
                count, reset_at = 0, now + item.get_expiry()
                if len(self._windows) >= limits.RATE_LIMIT_WINDOWS_KEPT:
                    self._forget_ended(now)
            allowed = count < item.amount
            if allowed:
                count += 1
            self._windows[key] = (count, reset_at)
        return allowed, item.amount - count, reset_at

    def _forget_ended(self, now: float) -> None:
        self._windows = {key: kept for key, kept in self._windows.items() if kept[1] > now}


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        self._policies: dict[str, RateLimitItem] = {
            "write": parse(settings.rate_limit_write),
            "beacon": parse(settings.rate_limit_beacon),
            "snapshot": parse(settings.rate_limit_snapshot),
            "read": parse(settings.rate_limit_read),
        }
        shared = settings.rate_limit_storage != "memory://"
        self._storage = _storage(settings.rate_limit_storage) if shared else None
        self.blocking = shared
        """Whether a hit waits on the network, so must not run on the event loop."""
        self._limiter = FixedWindowRateLimiter(self._storage) if self._storage else None
        self._local = LocalWindows()
        self._skip_storage_until = 0.0
        self._lock = threading.Lock()

    @property
    def groups(self) -> frozenset[str]:
        """The endpoint groups operations may name (`x-rate-limit-group` in the spec)."""
        return frozenset(self._policies)

    def hit(self, group: str, user: str) -> Decision:
        """Spend one unit of the user's budget for the group (blocking: call off the loop)."""
        item = self._policies[group]
        if (
            self._limiter is not None
            and self._storage is not None
            and time.monotonic() >= self._skip_storage_until
        ):
            try:
                allowed = self._limiter.hit(item, group, user)
                stats = self._limiter.get_window_stats(item, group, user)
                return self._decision(group, item, allowed, stats.remaining, stats.reset_time)
            except self._storage.base_exceptions:
                self._storage_failed()
        allowed, remaining, reset_at = self._local.hit(item, group, user)
        return self._decision(group, item, allowed, remaining, reset_at)

    @staticmethod
    def _decision(
        group: str, item: RateLimitItem, allowed: bool, remaining: int, reset_at: float
    ) -> Decision:
        return Decision(
            group=group,
            allowed=allowed,
            limit=item.amount,
            window=item.get_expiry(),
            remaining=remaining,
            reset_at=math.ceil(reset_at),
        )

    def _storage_failed(self) -> None:
        with self._lock:
            self._skip_storage_until = time.monotonic() + limits.RATE_LIMIT_REDIS_RETRY_SECONDS
        log.error(
            "rate-limit storage does not answer: serving with per-process counters for %ss",
            limits.RATE_LIMIT_REDIS_RETRY_SECONDS,
        )


def _storage(uri: str) -> Storage:
    timeout = limits.RATE_LIMIT_REDIS_TIMEOUT_SECONDS
    storage = storage_from_string(
        uri, socket_connect_timeout=timeout, socket_timeout=timeout, key_prefix="solo"
    )
    assert isinstance(storage, Storage)
    return storage
