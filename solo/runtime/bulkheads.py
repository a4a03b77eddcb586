"""Bulkheads: blocking work on bounded thread pools, with deadlines, so that one slow
dependency can hold only its own threads, and never the event loop or another's threads.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import contextvars
import functools
from collections.abc import AsyncIterator, Callable, Hashable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class Late(Exception):
    """The work did not start (or finish) within its deadline."""


async def started_within(
    threads: concurrent.futures.Executor,
    wait_seconds: float,
    function: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run `function` on `threads`; Late if no thread took it within `wait_seconds`.

    Once started, the work is awaited to its end: its own timeouts bound it (a thread
    cannot be stopped halfway), and its caller learns what it did.
    """
    loop = asyncio.get_running_loop()
    future = threads.submit(_in_this_context(function, *args, **kwargs))
    late: list[bool] = []

    def give_up() -> None:
        if future.cancel():  # only while it waits for a thread
            late.append(True)

    timer = loop.call_later(wait_seconds, give_up)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        if late:
            raise Late() from None
        raise
    finally:
        timer.cancel()


async def finished_within(
    threads: concurrent.futures.Executor,
    deadline_seconds: float,
    function: Callable[P, T],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run `function` on `threads`; Late if it has not finished within the deadline (the
    thread may still be busy with it: the pool's size bounds how many can be)."""
    future = threads.submit(_in_this_context(function, *args, **kwargs))
    try:
        return await asyncio.wait_for(asyncio.wrap_future(future), deadline_seconds)
    except TimeoutError:
        raise Late() from None


def _in_this_context(
    function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
) -> Callable[[], T]:
    # Like asyncio.to_thread: the work sees the request's context (its id, connexion's
    # `request`).
    return functools.partial(contextvars.copy_context().run, function, *args, **kwargs)


class KeyedGate:
    """At most `width` holders per key at once; the others wait on the event loop, at most
    `wait_seconds` (then Late). Used by one event loop."""

    def __init__(self, width: int, wait_seconds: float) -> None:
        self._width = width
        self._wait_seconds = wait_seconds
        self._gates: dict[Hashable, asyncio.Semaphore] = {}
        self._users: collections.Counter[Hashable] = collections.Counter()

    @contextlib.asynccontextmanager
    async def held(self, key: Hashable) -> AsyncIterator[None]:
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = asyncio.Semaphore(self._width)
        self._users[key] += 1
        try:
            if gate.locked():
                try:
                    async with asyncio.timeout(self._wait_seconds):
                        await gate.acquire()
                except TimeoutError:
                    raise Late() from None
            else:
                await gate.acquire()
            try:
                yield
            finally:
                gate.release()
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._gates[key]
