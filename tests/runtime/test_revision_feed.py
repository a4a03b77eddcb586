"""Revision events reach a process's streams whichever process wrote the revision."""

import asyncio
import copy
import datetime as dt
import functools
import time

import pytest

from solo import limits
from solo.dependencies import Dependencies
from solo.domain.model import Patch
from solo.domain.preconditions import from_headers
from solo.runtime.revision_feed import GONE
from solo.services import sessions, writes
from solo.settings import Settings

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
    session, _ = sessions.create_session(
        deps.database.unit_of_work(),
        deps.states,
        owner="олена",
        state=copy.deepcopy({"а": 1}),
        clock=lambda: T0,
    )

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
    session, _ = sessions.create_session(
        deps.database.unit_of_work(), deps.states, owner="олена", state={}, clock=lambda: T0
    )

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
