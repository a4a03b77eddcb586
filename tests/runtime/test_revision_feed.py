"""Revision events reach a process's streams whichever process wrote the revision."""

import asyncio
import copy
import datetime as dt
import functools
import threading
import time
import uuid

import pytest

from solo import limits
from solo.dependencies import Dependencies
from solo.domain.model import Patch
from solo.domain.preconditions import from_headers
from solo.runtime.revision_feed import GONE, RevisionEvent, RevisionEvents
from solo.services import sessions, writes
from solo.settings import Settings
from tests.support.listeners import Listeners

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def other_process(settings):
    built = Dependencies.build(settings)
    yield built
    built.close()


def write(deps, session_id, key):
    return writes.write(
        deps.database.unit_of_work(),
        deps.states,
        writes.Write(
            "олена",
            session_id,
            from_headers("*", None),
            Patch([{"op": "add", "path": f"/{key}", "value": True}]),
        ),
        clock=lambda: T0,
        kept=Settings().kept_log,
    )


async def revisions_until(queue, rev, seconds):
    seen = []
    deadline = time.monotonic() + seconds
    while not seen or seen[-1] < rev:
        event = await asyncio.wait_for(queue.get(), deadline - time.monotonic())
        seen.append(event.rev)
    return seen


def test_a_write_through_another_process_reaches_this_ones_streams(deps, other_process):
    session = sessions.create_session(
        deps.database.unit_of_work(),
        deps.states,
        owner="олена",
        state=copy.deepcopy({"а": 1}),
        clock=lambda: T0,
    ).session

    async def scenario():
        async with deps.feed.subscribed(session.id) as queue:
            started = time.monotonic()
            await asyncio.to_thread(write, other_process, session.id, "перший")
            first = await revisions_until(queue, 1, 2.0)
            latency = time.monotonic() - started
            await asyncio.to_thread(write, other_process, session.id, "другий")
            await asyncio.to_thread(write, other_process, session.id, "третій")
            later = await revisions_until(queue, 3, 2.0)
        return first, later, latency

    first, later, latency = asyncio.run(scenario())
    assert first[-1] == 1 and later == [2, 3]
    assert latency < 1.0


def test_streams_of_a_session_another_process_deleted_end(deps, other_process, monkeypatch):
    monkeypatch.setattr(limits, "EVENTS_WATCH_RENEW_SECONDS", 0.2)
    session = sessions.create_session(
        deps.database.unit_of_work(), deps.states, owner="олена", state={}, clock=lambda: T0
    ).session

    async def scenario():
        async with deps.feed.subscribed(session.id) as queue:
            await asyncio.to_thread(
                functools.partial(
                    sessions.delete_session,
                    other_process.database.unit_of_work(),
                    other_process.states,
                    owner="олена",
                    session_id=session.id,
                    precondition=from_headers("*", None),
                    clock=lambda: T0,
                )
            )
            events = []
            while not events or events[-1] is not GONE:
                events.append(await asyncio.wait_for(queue.get(), 2.0))
            return events[-1]

    assert asyncio.run(scenario()) is GONE


class Recorded:
    """A database of one session for RevisionEvents, whose catch-ups the test answers."""

    def __init__(self, head: int) -> None:
        self.head = head
        self.asked: asyncio.Queue = asyncio.Queue()
        self.answers: asyncio.Queue = asyncio.Queue()

    def watch(self, session_ids, until):
        return {session_id: revision(self.head) for session_id in session_ids}

    def catch_up(self, delivered):
        raise AssertionError("answered on the loop by run_blocking")

    async def run_blocking(self, function, *args):
        if function == self.catch_up:
            await self.asked.put(args[0])
            return await self.answers.get()
        return function(*args)


def revision(rev: int) -> RevisionEvent:
    return RevisionEvent(rev, T0 + dt.timedelta(seconds=rev))


def recorded_events(database: Recorded) -> RevisionEvents:
    return RevisionEvents(
        watch=database.watch,
        catch_up=database.catch_up,
        listen=None,
        polling=False,
        run_blocking=database.run_blocking,
        clock=lambda: T0,
    )


async def queued(queue) -> list[int]:
    revs = []
    while not queue.empty():
        revs.append(queue.get_nowait().rev)
    return revs


def test_a_revision_announced_ahead_is_held_until_those_before_it_are_read():
    session_id = uuid.uuid4()
    database = Recorded(head=1)
    events = recorded_events(database)

    async def scenario():
        async with events.subscribed(session_id) as queue:
            opened = await queued(queue)
            events.published(session_id, revision(3))  # this process's write; 2 is unseen
            asked = await asyncio.wait_for(database.asked.get(), 1)
            held = await queued(queue)
            await database.answers.put({session_id: [revision(2), revision(3)]})
            await asyncio.sleep(0.01)
            events.published(session_id, revision(2))  # 2's own announcement, late
            events.published(session_id, revision(4))
            return opened, asked, held, await queued(queue)

    opened, asked, held, delivered = asyncio.run(scenario())
    events.close()
    assert (opened, asked, held, delivered) == ([1], {session_id: 1}, [], [2, 3, 4])


def test_what_was_announced_while_not_listening_is_caught_up_when_listening_again():
    session_id = uuid.uuid4()
    database = Recorded(head=4)
    started = threading.Event()
    listening_again = []

    def listen(stop, publish, listening):
        listening_again.append(listening)
        started.set()

    events = RevisionEvents(
        watch=database.watch,
        catch_up=database.catch_up,
        listen=listen,
        polling=False,
        run_blocking=database.run_blocking,
        clock=lambda: T0,
    )

    async def scenario():
        async with events.subscribed(session_id) as queue:
            opened = await queued(queue)
            await asyncio.to_thread(started.wait, 1)
            listening_again[0]()  # the connection was lost and is back: 5 and 6 were missed
            asked = await asyncio.wait_for(database.asked.get(), 1)
            await database.answers.put({session_id: [revision(5), revision(6)]})
            await asyncio.sleep(0.01)
            return opened, asked, await queued(queue)

    opened, asked, delivered = asyncio.run(scenario())
    events.close()
    assert (opened, asked, delivered) == ([4], {session_id: 4}, [5, 6])


def test_another_processs_older_revision_reaches_the_stream_before_this_ones_newer(
    deps, other_process
):
    session = sessions.create_session(
        deps.database.unit_of_work(), deps.states, owner="олена", state={}, clock=lambda: T0
    ).session

    async def scenario():
        async with deps.feed.subscribed(session.id) as queue:
            await asyncio.to_thread(write, other_process, session.id, "там")
            mine = await asyncio.to_thread(write, deps, session.id, "тут")
            deps.feed.published(session.id, RevisionEvent(mine.rev, mine.updated_at))
            return await revisions_until(queue, 2, 2.0)

    assert asyncio.run(scenario()) == [0, 1, 2]


def test_revisions_announced_while_the_listener_was_down_reach_the_stream(
    postgres_database_url, tmp_path
):
    settings = Settings(
        database_url=postgres_database_url, storage_url=f"file://{tmp_path}/snapshots"
    )
    here, there = Dependencies.build(settings), Dependencies.build(settings)
    listeners = Listeners(postgres_database_url)
    session = sessions.create_session(
        here.database.unit_of_work(), here.states, owner="олена", state={}, clock=lambda: T0
    ).session

    async def scenario():
        async with here.feed.subscribed(session.id) as queue:
            first = await asyncio.to_thread(listeners.wait_for, 1, 5.0)
            assert listeners.terminate() == 1
            await asyncio.to_thread(write, there, session.id, "поки-не-слухав")
            back = await asyncio.to_thread(listeners.wait_for, 1, 5.0)
            return first != back, await revisions_until(queue, 1, 2.0)

    try:
        assert asyncio.run(scenario()) == (True, [0, 1])
    finally:
        listeners.close()
        here.close()
        there.close()
