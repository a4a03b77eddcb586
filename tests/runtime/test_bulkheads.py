"""Bulkheads: bounded pools with deadlines, and a gate of bounded width per key."""

import asyncio
import concurrent.futures
import contextlib
import contextvars
import threading
import time

import pytest

from solo.runtime.bulkheads import KeyedGate, Late, finished_within, started_within

SHORT = 0.05
"""Seconds a test lets a deadline pass: long enough for a thread to start, short enough
to keep the suite fast."""

GREETING: contextvars.ContextVar[str] = contextvars.ContextVar("greeting")


@contextlib.contextmanager
def one_busy_thread():
    """A pool of one thread, held by blocked work until the block ends."""
    release = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(1) as threads:
        threads.submit(release.wait)
        try:
            yield threads
        finally:
            release.set()


def greeted(name: str) -> str:
    return f"{GREETING.get()}, {name}"


def test_work_started_in_time_answers_in_the_callers_context():
    async def scenario():
        GREETING.set("Привіт")
        with concurrent.futures.ThreadPoolExecutor(1) as threads:
            return await started_within(threads, SHORT, greeted, "Олено")

    assert asyncio.run(scenario()) == "Привіт, Олено"


def test_work_no_thread_takes_in_time_is_late_and_never_runs():
    ran = threading.Event()

    async def scenario():
        with one_busy_thread() as threads, pytest.raises(Late):
            await started_within(threads, SHORT, ran.set)

    asyncio.run(scenario())
    assert not ran.is_set()


def test_work_once_started_is_awaited_past_the_wait():
    def slow() -> str:
        time.sleep(SHORT * 2)
        return "готово"

    async def scenario():
        with concurrent.futures.ThreadPoolExecutor(1) as threads:
            return await started_within(threads, SHORT, slow)

    assert asyncio.run(scenario()) == "готово"


def test_an_error_of_the_work_reaches_the_caller_as_it_is():
    def failing() -> None:
        raise ValueError("зламано")

    async def scenario():
        with concurrent.futures.ThreadPoolExecutor(1) as threads:
            await started_within(threads, SHORT, failing)

    with pytest.raises(ValueError, match=r"^зламано$"):
        asyncio.run(scenario())


def test_work_finished_in_time_answers():
    async def scenario():
        GREETING.set("Вітаю")
        with concurrent.futures.ThreadPoolExecutor(1) as threads:
            return await finished_within(threads, 10, greeted, "Тарасе")

    assert asyncio.run(scenario()) == "Вітаю, Тарасе"


def test_work_not_finished_by_the_deadline_is_late():
    release = threading.Event()

    async def scenario():
        with concurrent.futures.ThreadPoolExecutor(1) as threads:
            try:
                await finished_within(threads, SHORT, release.wait)
            finally:
                release.set()

    with pytest.raises(Late):
        asyncio.run(scenario())


def test_the_deadline_counts_the_wait_for_a_thread():
    async def scenario():
        with one_busy_thread() as threads:
            await finished_within(threads, SHORT, greeted, "Олено")

    with pytest.raises(Late):
        asyncio.run(scenario())


def test_a_gate_lets_width_holders_in_and_the_next_is_late():
    gate = KeyedGate(width=2, wait_seconds=SHORT)

    async def scenario():
        async with gate.held("олена"), gate.held("олена"):
            with pytest.raises(Late):
                async with gate.held("олена"):
                    pass

    asyncio.run(scenario())


def test_a_full_gate_holds_up_no_other_key():
    gate = KeyedGate(width=1, wait_seconds=SHORT)

    async def scenario():
        async with gate.held("олена"), gate.held("тарас"):
            return "обидва"

    assert asyncio.run(scenario()) == "обидва"


def test_a_waiter_gets_in_when_a_holder_leaves_in_time():
    gate = KeyedGate(width=1, wait_seconds=10)
    entered: list[str] = []

    async def hold_briefly():
        async with gate.held("олена"):
            await asyncio.sleep(SHORT)
            entered.append("перший")

    async def wait_then_hold():
        async with gate.held("олена"):
            entered.append("другий")

    async def scenario():
        await asyncio.gather(hold_briefly(), wait_then_hold())

    asyncio.run(scenario())
    assert entered == ["перший", "другий"]


def test_a_gate_is_open_again_after_a_late_waiter():
    gate = KeyedGate(width=1, wait_seconds=SHORT)

    async def scenario():
        async with gate.held("олена"):
            with pytest.raises(Late):
                async with gate.held("олена"):
                    pass
        async with gate.held("олена"):
            return "знову"

    assert asyncio.run(scenario()) == "знову"
