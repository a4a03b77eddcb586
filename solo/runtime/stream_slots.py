"""The places event streams hold: per user, per session, and in this process.

A stream takes a slot before it opens and gives it back when it ends. The per-user and
per-session caps are counted like rate limits: in this process's memory by default, and in
Redis when SOLO_RATE_LIMIT_STORAGE is a redis:// URL, so that every server process shares
them. In Redis each user has a sorted set of the ids of its streams, and each of its
sessions one more, scored by the time their lease ends; every process renews its streams'
leases every heartbeat, so the places of a process that died without closing its streams
come free within EVENT_STREAM_LEASE_SECONDS. When Redis does not answer, the process counts
its own streams only until it is back (an outage of the counter store never takes the
streams down, as for rate limits).

The per-process ceiling is always counted here: it keeps the process's file descriptors
for everything that is not a stream (solo/descriptors.py).
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import logging
import time
import uuid
from collections.abc import Callable, Hashable
from typing import TypeVar

import redis
from starlette.concurrency import run_in_threadpool

from solo import limits
from solo.domain.errors import Unavailable
from solo.settings import Settings


class TooManyStreams(Exception):
    """The user, or the session, holds as many event streams as allowed (`scope`)."""

    def __init__(self, *, limit: int, scope: str) -> None:
        super().__init__(f"{scope} holds {limit} streams")
        self.limit, self.scope = limit, scope


class ProcessFull(Unavailable):
    """This process holds all the streams its descriptors allow: another process (behind
    the balancer) may take the stream."""

    def __init__(self) -> None:
        super().__init__({"streams": "unavailable"}, _PROCESS_FULL)
        self.message = _PROCESS_FULL


log = logging.getLogger(__name__)
K = TypeVar("K", bound=Hashable)

# Both keys of a user carry the user in one hash tag: a Redis Cluster keeps them in one
# slot, so that one script may read and write both.
_TAKE = """
local now, expiry = tonumber(ARGV[1]), tonumber(ARGV[2])
for _, key in ipairs(KEYS) do redis.call('ZREMRANGEBYSCORE', key, '-inf', now) end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 'user' end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 'session' end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, expiry, ARGV[3])
  redis.call('EXPIRE', key, ARGV[6])
end
return 'ok'
"""


_PROCESS_FULL = "This server process holds all the event streams it can: retry shortly."


@dataclasses.dataclass(frozen=True)
class Slot:
    id: str
    user: str
    session_id: uuid.UUID

    @property
    def keys(self) -> tuple[str, str]:
        """The Redis sorted sets of the user's streams and of the session's."""
        user = f"solo:streams:{{{self.user}}}"
        return user, f"{user}:{self.session_id}"


class LocalCount:
    """The streams this process holds, by user and by session."""

    def __init__(self) -> None:
        self.total = 0
        self._users: collections.Counter[str] = collections.Counter()
        self._sessions: collections.Counter[uuid.UUID] = collections.Counter()

    def refusal(self, slot: Slot, *, per_user: int, per_session: int) -> TooManyStreams | None:
        if self._users[slot.user] >= per_user:
            return TooManyStreams(limit=per_user, scope="user")
        if self._sessions[slot.session_id] >= per_session:
            return TooManyStreams(limit=per_session, scope="session")
        return None

    def add(self, slot: Slot) -> None:
        self.total += 1
        self._users[slot.user] += 1
        self._sessions[slot.session_id] += 1

    def remove(self, slot: Slot) -> None:
        self.total -= 1
        _decrement(self._users, slot.user)
        _decrement(self._sessions, slot.session_id)


def _decrement(counter: collections.Counter[K], key: K) -> None:
    """One fewer; a key at zero is forgotten, so that the counters hold open streams only."""
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


class StreamSlots:
    def __init__(
        self, settings: Settings, ceiling: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._per_user = settings.event_streams_per_user
        self._per_session = settings.event_streams_per_session
        self._ceiling = ceiling
        self._clock = clock
        self._local = LocalCount()
        self._held: set[Slot] = set()
        shared = settings.rate_limit_storage.startswith(("redis://", "rediss://"))
        self._redis = _client(settings.rate_limit_storage) if shared else None
        self._take_script = self._redis.register_script(_TAKE) if self._redis else None
        self._skip_redis_until = 0.0

    async def take(self, user: str, session_id: uuid.UUID) -> Slot:
        """A place for one more stream of the user on the session, or TooManyStreams (429),
        or Unavailable (503) when this process holds all the streams it may."""
        if self._local.total >= self._ceiling:
            log.warning("refusing an event stream: this process holds %s", self._local.total)
            raise ProcessFull()
        slot = Slot(uuid.uuid4().hex, user, session_id)
        refusal = self._local.refusal(slot, per_user=self._per_user, per_session=self._per_session)
        self._local.add(slot)
        try:
            if self._redis_answers():
                refusal = await run_in_threadpool(self._take_shared, slot, refusal)
        except BaseException:
            self._local.remove(slot)
            raise
        if refusal is not None:
            self._local.remove(slot)
            raise refusal
        self._held.add(slot)
        return slot

    async def give_back(self, slot: Slot) -> None:
        self._held.discard(slot)
        self._local.remove(slot)
        if self._redis_answers():
            await run_in_threadpool(self._give_back_shared, slot)

    async def renewing(self) -> None:
        """Renew the leases of this process's streams every heartbeat (with Redis)."""
        while True:
            await asyncio.sleep(limits.EVENTS_HEARTBEAT_SECONDS)
            if self._held and self._redis_answers():
                await run_in_threadpool(self._renew_shared, list(self._held))

    def close(self) -> None:
        if self._redis is not None:
            self._redis.close()

    def _redis_answers(self) -> bool:
        return self._redis is not None and time.monotonic() >= self._skip_redis_until

    def _take_shared(self, slot: Slot, local: TooManyStreams | None) -> TooManyStreams | None:
        """The shared count's answer; this process's own (`local`) if Redis fails."""
        assert self._take_script is not None
        now = self._clock()
        try:
            answer = self._take_script(
                keys=slot.keys,
                args=[
                    now,
                    now + limits.EVENT_STREAM_LEASE_SECONDS,
                    slot.id,
                    self._per_user,
                    self._per_session,
                    limits.EVENT_STREAM_LEASE_SECONDS,
                ],
            )
        except redis.RedisError:
            self._redis_failed()
            return local
        if answer == b"user":
            return TooManyStreams(limit=self._per_user, scope="user")
        if answer == b"session":
            return TooManyStreams(limit=self._per_session, scope="session")
        return None

    def _give_back_shared(self, slot: Slot) -> None:
        assert self._redis is not None
        try:
            with self._redis.pipeline(transaction=False) as pipeline:
                for key in slot.keys:
                    pipeline.zrem(key, slot.id)
                pipeline.execute()
        except redis.RedisError:
            self._redis_failed()

    def _renew_shared(self, slots: list[Slot]) -> None:
        """Push the leases of held slots forward; a slot taken while Redis did not answer
        is not added (XX): the shared count may miss it, never count a stream that ended."""
        assert self._redis is not None
        expiry = self._clock() + limits.EVENT_STREAM_LEASE_SECONDS
        try:
            with self._redis.pipeline(transaction=False) as pipeline:
                for slot in slots:
                    for key in slot.keys:
                        pipeline.zadd(key, {slot.id: expiry}, xx=True)
                        pipeline.expire(key, limits.EVENT_STREAM_LEASE_SECONDS)
                pipeline.execute()
        except redis.RedisError:
            self._redis_failed()

    def _redis_failed(self) -> None:
        self._skip_redis_until = time.monotonic() + limits.RATE_LIMIT_REDIS_RETRY_SECONDS
        log.error(
            "stream counts' storage does not answer: counting this process's streams only for %ss",
            limits.RATE_LIMIT_REDIS_RETRY_SECONDS,
        )


def _client(url: str) -> redis.Redis:
    timeout = limits.RATE_LIMIT_REDIS_TIMEOUT_SECONDS
    return redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
