"""The snapshot writes of this process: waited for to their end, and polled for otherwise."""

import asyncio
import uuid

import pytest

from solo.runtime.snapshot_writes import SnapshotWrites

SESSION = uuid.UUID("6f1c2d3e-4a5b-4c6d-8e7f-901234567890")
POLL = 0.05


def test_a_write_of_this_process_is_waited_for_to_its_end_whatever_its_outcome():
    async def run() -> list[str]:
        writes = SnapshotWrites(poll_seconds=POLL)
        happened: list[str] = []

        async def writer() -> None:
            with pytest.raises(ConnectionError), writes.writing(SESSION, 3):
                await asyncio.sleep(4 * POLL)
                happened.append("запис скінчився")
                raise ConnectionError("сховище не відповіло")

        async def waiter() -> None:
            await asyncio.sleep(0)  # the writer has begun
            await writes.ended(SESSION, 3, within=60)
            happened.append("дочекався")

        await asyncio.gather(writer(), waiter())
        return happened

    assert asyncio.run(run()) == ["запис скінчився", "дочекався"]


def test_waiting_ends_at_its_bound_while_the_write_goes_on():
    async def run() -> tuple[bool, bool]:
        writes = SnapshotWrites(poll_seconds=POLL)
        release = asyncio.Event()

        async def writer() -> None:
            with writes.writing(SESSION, 3):
                await release.wait()

        writing = asyncio.create_task(writer())
        await asyncio.sleep(0)
        await writes.ended(SESSION, 3, within=POLL)
        still_writing = not writing.done()
        release.set()
        await writing
        return still_writing, writing.done()

    assert asyncio.run(run()) == (True, True)


@pytest.mark.parametrize("rev", [3, 4])
def test_a_rev_not_written_here_is_a_polls_pause(rev):
    """Another session's write, or another rev's, is not this one's: a pause, then back."""

    async def run() -> tuple[float, bool]:
        writes = SnapshotWrites(poll_seconds=POLL)
        release = asyncio.Event()

        async def writer() -> None:
            with writes.writing(uuid.uuid4() if rev == 3 else SESSION, 3):
                await release.wait()

        writing = asyncio.create_task(writer())
        await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        await writes.ended(SESSION, rev, within=30)
        paused = loop.time() - started
        done_before_release = writing.done()
        release.set()
        await writing
        return paused, done_before_release

    paused, done_before_release = asyncio.run(run())
    # asyncio may wake a timer up to its clock's resolution early.
    assert 0.9 * POLL <= paused < 10 and done_before_release is False


def test_a_write_begun_before_an_earlier_one_of_its_rev_ended_is_the_one_waited_for():
    """A failed write gives its claim back before it ends here: a request that polled may
    begin writing the same rev meanwhile."""

    async def run() -> list[str]:
        writes = SnapshotWrites(poll_seconds=POLL)
        first_ends, second_ends = asyncio.Event(), asyncio.Event()
        happened: list[str] = []

        async def writer(name: str, ends: asyncio.Event) -> None:
            with writes.writing(SESSION, 3):
                await ends.wait()
            happened.append(name)

        first = asyncio.create_task(writer("перший", first_ends))
        await asyncio.sleep(0)
        second = asyncio.create_task(writer("другий", second_ends))
        await asyncio.sleep(0)
        first_ends.set()
        await first
        waiting = asyncio.create_task(writes.ended(SESSION, 3, within=30))
        await asyncio.sleep(2 * POLL)  # past a poll's pause: the second write is waited for
        happened.append("чекає" if not waiting.done() else "не чекав")
        second_ends.set()
        await asyncio.gather(second, waiting)
        return happened

    assert asyncio.run(run()) == ["перший", "чекає", "другий"]
