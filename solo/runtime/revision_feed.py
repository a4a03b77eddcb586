"""Revision events: each process fans a session's new revisions out to the streams open on
it, whichever process wrote them.

Writes made here are published at once. Writes made by other processes arrive through
PostgreSQL LISTEN/NOTIFY (writers announce revisions of sessions marked as watched, so an
unwatched session's writes pay nothing), or, on SQLite, by polling the heads of the
sessions that have streams here. Every process marks the sessions it streams as watched,
and renews the mark while they stay open.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from solo import limits

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class RevisionEvent:
    rev: int
    updated_at: dt.datetime


GONE = RevisionEvent(-1, dt.datetime.min.replace(tzinfo=dt.UTC))
"""Published when a streamed session no longer exists: its streams end."""


def event_of(rev: int, updated_at: dt.datetime) -> RevisionEvent:
    """The event another process announced: a revision, or GONE."""
    return GONE if rev == GONE.rev else RevisionEvent(rev, updated_at)


Watch = Callable[[list[uuid.UUID], dt.datetime], set[uuid.UUID]]
"""Mark sessions as watched until a time; answers those that still exist (blocking)."""

Poll = Callable[[dict[uuid.UUID, int]], dict[uuid.UUID, list[RevisionEvent]]]
"""Given sessions and the newest rev published for each, what happened since (blocking)."""

Listen = Callable[[threading.Event, Callable[[uuid.UUID, RevisionEvent], None]], None]
"""Hand announced revisions to a callback until the event is set (runs in its own thread)."""


class RevisionEvents:
    def __init__(
        self,
        watch: Watch,
        poll: Poll | None,
        listen: Listen | None,
        run_blocking: Callable[..., Awaitable[Any]],
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._watch, self._poll, self._listen = watch, poll, listen
        self._run_blocking, self._clock = run_blocking, clock
        self._queues: dict[uuid.UUID, set[asyncio.Queue[RevisionEvent]]] = {}
        self._seen: dict[uuid.UUID, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = threading.Event()

    @contextlib.asynccontextmanager
    async def subscribed(
        self, session_id: uuid.UUID
    ) -> AsyncIterator[asyncio.Queue[RevisionEvent]]:
        """A queue of the session's revision events for as long as the context lasts; the
        session is marked as watched before the context is entered."""
        self._start()
        queue: asyncio.Queue[RevisionEvent] = asyncio.Queue()
        first = session_id not in self._queues
        self._queues.setdefault(session_id, set()).add(queue)
        try:
            if first:
                await self._run_blocking(self._watch, [session_id], self._watched_until())
            yield queue
        finally:
            listeners = self._queues.get(session_id, set())
            listeners.discard(queue)
            if not listeners:
                self._queues.pop(session_id, None)
                self._seen.pop(session_id, None)

    def published(self, session_id: uuid.UUID, event: RevisionEvent) -> None:
        """Hand a revision to the session's streams here (on the event loop's thread)."""
        if event is not GONE:
            if event.rev <= self._seen.get(session_id, -1):
                return
            self._seen[session_id] = event.rev
        for queue in self._queues.get(session_id, ()):
            queue.put_nowait(event)

    def published_from_thread(self, session_id: uuid.UUID, event: RevisionEvent) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.published, session_id, event)

    def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()

    def _watched_until(self) -> dt.datetime:
        return self._clock() + dt.timedelta(seconds=limits.EVENTS_WATCH_SECONDS)

    def _start(self) -> None:
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._tasks.append(self._loop.create_task(self._renew_watches()))
        if self._poll is not None:
            self._tasks.append(self._loop.create_task(self._polling()))
        if self._listen is not None:
            threading.Thread(
                target=self._listen,
                args=(self._stop, self.published_from_thread),
                name="solo-revision-listener",
                daemon=True,
            ).start()

    async def _renew_watches(self) -> None:
        while True:
            await asyncio.sleep(limits.EVENTS_WATCH_RENEW_SECONDS)
            if not self._queues:
                continue
            watched = list(self._queues)
            with _logged("renewing watched sessions"):
                existing = await self._run_blocking(self._watch, watched, self._watched_until())
                for session_id in set(watched) - existing:
                    self.published(session_id, GONE)

    async def _polling(self) -> None:
        assert self._poll is not None
        while True:
            await asyncio.sleep(limits.EVENTS_POLL_SECONDS)
            if not self._queues:
                continue
            seen = {session_id: self._seen.get(session_id, -1) for session_id in self._queues}
            with _logged("polling revisions"):
                news = await self._run_blocking(self._poll, seen)
                for session_id, events in news.items():
                    for event in events:
                        self.published(session_id, event)


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        log.exception("revision events: %s failed; trying again later", what)
