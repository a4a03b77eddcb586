"""Revision events: each process fans every revision of a session out to the streams open on
it, whichever process wrote it, in order.

Writes made here are published at once. Writes made by other processes arrive through
PostgreSQL LISTEN/NOTIFY (writers announce revisions of sessions marked as watched, so an
unwatched session's writes pay nothing), or, on SQLite, by polling the sessions that have
streams here. Every process marks the sessions it streams as watched, and renews the mark
while they stay open.

Announcements can come out of order or not at all: this process's own write is published
at once while another process's older revision is still unseen, a NOTIFY can overtake
another, and those sent while the LISTEN connection is down are lost. So per session the
process keeps the last rev it delivered, and delivers only the next one; a revision
announced ahead of it is held back and the session is caught up at once from the revision
log (what came between, in order, then what was held). The log is the truth: a revision
it no longer keeps is the only gap a stream can see (the spec's "ids may jump"). After
every (re)connect of the LISTEN connection every streamed session is caught up the same
way, and on SQLite the poll is that catch-up, for every streamed session.
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
    ops: bytes | None = None
    """The change's ops as logged, when they are small enough to travel with the event."""


_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)

GONE = RevisionEvent(-1, _NEVER)
"""Published when a streamed session no longer exists: its streams say so and end."""

SHUT_DOWN = RevisionEvent(-2, _NEVER)
"""Handed to every stream when the process shuts down: they end at once."""


def event_of(rev: int, updated_at: dt.datetime, ops: bytes | None = None) -> RevisionEvent:
    """The event another process announced: a revision, or GONE."""
    return GONE if rev == GONE.rev else RevisionEvent(rev, updated_at, ops)


Watch = Callable[[list[uuid.UUID], dt.datetime], dict[uuid.UUID, RevisionEvent]]
"""Mark sessions as watched until a time; answers the heads of those that exist (blocking)."""

CatchUp = Callable[[dict[uuid.UUID, int]], dict[uuid.UUID, list[RevisionEvent]]]
"""Given sessions and the last rev delivered of each (-1: none yet), the revisions since,
as the log keeps them, or [GONE] (blocking)."""

Listen = Callable[
    [threading.Event, Callable[[uuid.UUID, RevisionEvent], None], Callable[[], None]], None
]
"""Hand announced revisions to a callback until the event is set, and call the other
callback each time it starts listening (runs in its own thread)."""


@dataclasses.dataclass
class _Feed:
    """One session's streams in this process, and how far they have been delivered."""

    queues: set[asyncio.Queue[RevisionEvent]] = dataclasses.field(default_factory=set)
    delivered: int | None = None
    """The last rev handed to the streams; None until the session's head is known."""
    held: dict[int, RevisionEvent] = dataclasses.field(default_factory=dict)
    """Revisions announced ahead of `delivered`, held until what came between is known."""

    def send(self, event: RevisionEvent) -> None:
        for queue in self.queues:
            queue.put_nowait(event)

    def deliver(self, event: RevisionEvent) -> None:
        self.delivered = event.rev
        self.send(event)

    def release_held(self) -> bool:
        """Deliver the held revisions that now follow on; whether a gap still holds some."""
        assert self.delivered is not None
        for rev in sorted(self.held):
            if rev > self.delivered + 1:
                return True
            event = self.held.pop(rev)
            if rev == self.delivered + 1:
                self.deliver(event)
        return False


class RevisionEvents:
    def __init__(
        self,
        *,
        watch: Watch,
        catch_up: CatchUp,
        listen: Listen | None,
        polling: bool,
        run_blocking: Callable[..., Awaitable[Any]],
        clock: Callable[[], dt.datetime],
    ) -> None:
        self._watch, self._catch_up, self._listen = watch, catch_up, listen
        self._polling = polling
        """Whether every streamed session is caught up every EVENTS_POLL_SECONDS (SQLite:
        nothing announces other processes' writes)."""
        self._run_blocking, self._clock = run_blocking, clock
        self._feeds: dict[uuid.UUID, _Feed] = {}
        self._wanted: set[uuid.UUID] = set()
        self._wake = asyncio.Event()
        self._shut_down = False
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
        if self._shut_down:
            queue.put_nowait(SHUT_DOWN)
        feed = self._feeds.get(session_id)
        first = feed is None
        if feed is None:
            feed = self._feeds[session_id] = _Feed()
        feed.queues.add(queue)
        try:
            if first:
                heads = await self._run_blocking(self._watch, [session_id], self._watched_until())
                self._caught_up(session_id, [heads.get(session_id, GONE)])
            yield queue
        finally:
            feed.queues.discard(queue)
            if not feed.queues and self._feeds.get(session_id) is feed:
                del self._feeds[session_id]

    def published(self, session_id: uuid.UUID, event: RevisionEvent) -> None:
        """An announced revision (this process's write, another's NOTIFY), or GONE; on the
        event loop's thread. Delivered if it is the next one, else held back while the
        session is caught up."""
        feed = self._feeds.get(session_id)
        if feed is None:
            return
        if event is GONE:
            feed.send(GONE)
        elif feed.delivered is not None and event.rev == feed.delivered + 1:
            feed.deliver(event)
            if feed.release_held():
                self._want(session_id)
        elif feed.delivered is None or event.rev > feed.delivered:
            feed.held[event.rev] = event
            self._want(session_id)

    def published_from_thread(self, session_id: uuid.UUID, event: RevisionEvent) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self.published, session_id, event)

    def listening_from_thread(self) -> None:
        """The LISTEN connection (re)started: what was announced before is caught up."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._want_all)

    def shut_down(self) -> None:
        """End every stream of this process now (it is shutting down), and later ones at
        once; called again, it does nothing."""
        if self._shut_down:
            return
        self._shut_down = True
        for feed in self._feeds.values():
            feed.send(SHUT_DOWN)

    def close(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()

    def _caught_up(self, session_id: uuid.UUID, events: list[RevisionEvent]) -> None:
        """Revisions read from the database, in order, with nothing missing between them
        but what the log no longer keeps (or GONE)."""
        feed = self._feeds.get(session_id)
        if feed is None:
            return
        for event in events:
            if event is GONE:
                feed.send(GONE)
                return
            if feed.delivered is None or event.rev > feed.delivered:
                feed.deliver(event)
        if feed.delivered is not None and feed.release_held():
            self._want(session_id)

    def _want(self, session_id: uuid.UUID) -> None:
        self._wanted.add(session_id)
        self._wake.set()

    def _want_all(self) -> None:
        self._wanted.update(self._feeds)
        self._wake.set()

    def _watched_until(self) -> dt.datetime:
        return self._clock() + dt.timedelta(seconds=limits.EVENTS_WATCH_SECONDS)

    def _start(self) -> None:
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._tasks.append(self._loop.create_task(self._renew_watches()))
        self._tasks.append(self._loop.create_task(self._catching_up()))
        if self._listen is not None:
            threading.Thread(
                target=self._listen,
                args=(self._stop, self.published_from_thread, self.listening_from_thread),
                name="solo-revision-listener",
                daemon=True,
            ).start()

    async def _renew_watches(self) -> None:
        while True:
            await asyncio.sleep(limits.EVENTS_WATCH_RENEW_SECONDS)
            if not self._feeds:
                continue
            watched = list(self._feeds)
            with _logged("renewing watched sessions"):
                heads = await self._run_blocking(self._watch, watched, self._watched_until())
                for session_id in set(watched) - set(heads):
                    self.published(session_id, GONE)

    async def _catching_up(self) -> None:
        """Catch up the sessions wanted, as soon as they are (and, polling, every streamed
        session every EVENTS_POLL_SECONDS), one read at a time."""
        loop = asyncio.get_running_loop()
        next_poll = loop.time()
        while True:
            timeout = max(0.0, next_poll - loop.time()) if self._polling else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()
            if self._polling and loop.time() >= next_poll:
                next_poll = loop.time() + limits.EVENTS_POLL_SECONDS
                self._wanted.update(self._feeds)
            wanted, self._wanted = self._wanted & self._feeds.keys(), set()
            if wanted and not await self._caught_up_from_database(wanted):
                self._wanted |= wanted
                await asyncio.sleep(limits.EVENTS_POLL_SECONDS)
                self._wake.set()

    async def _caught_up_from_database(self, wanted: set[uuid.UUID]) -> bool:
        delivered = {session_id: self._feeds[session_id].delivered for session_id in wanted}
        with _logged("catching up revisions"):
            news = await self._run_blocking(
                self._catch_up, {key: -1 if rev is None else rev for key, rev in delivered.items()}
            )
            for session_id, events in news.items():
                self._caught_up(session_id, events)
            return True
        return False


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    try:
        yield
    except Exception:
        log.exception("revision events: %s failed; trying again shortly", what)
