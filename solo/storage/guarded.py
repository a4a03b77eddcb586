"""The blob store as requests use it: on its own few threads, each call within a deadline.

A store that hangs holds these threads only: never the event loop, never a database
thread or transaction. A call that has not finished by the deadline (queueing included)
is StorageUnavailable, which requests answer with 503.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from solo.bulkheads import Late, finished_within
from solo.metrics import Outcome
from solo.storage import BlobStore, StorageUnavailable
from solo.storage.local import ExpiredOrForged

P = ParamSpec("P")
T = TypeVar("T")


class GuardedStore:
    def __init__(
        self,
        store: BlobStore,
        threads: int,
        deadline_seconds: float,
        observe: Callable[[str, Outcome, float], None],
    ) -> None:
        self.store = store
        self._deadline = deadline_seconds
        self._observe = observe
        """Told each call's verb, outcome and seconds (queueing included)."""
        self._threads = concurrent.futures.ThreadPoolExecutor(
            threads, thread_name_prefix="solo-storage"
        )

    async def put(self, key: str, data: bytes) -> None:
        await self.call(self.store.put, key, data)

    async def get(self, key: str) -> bytes | None:
        return await self.call(self.store.get, key)

    async def delete(self, key: str) -> None:
        await self.call(self.store.delete, key)

    async def delete_prefix(self, prefix: str) -> None:
        await self.call(self.store.delete_prefix, prefix)

    async def check(self, deadline_seconds: float) -> None:
        await self.call_within(deadline_seconds, self.store.check)

    def url(self, key: str, ttl_seconds: int) -> str:
        """Signing a URL does no I/O on either store: it runs where it is called."""
        return self.store.url(key, ttl_seconds)

    async def call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Any blocking call on the store's threads, within the deadline."""
        return await self.call_within(self._deadline, function, *args, **kwargs)

    async def call_within(
        self, deadline_seconds: float, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        started = time.perf_counter()
        outcome: Outcome = "error"
        try:
            result = await finished_within(
                self._threads, deadline_seconds, function, *args, **kwargs
            )
            outcome = "ok"
            return result
        except Late:
            outcome = "late"
            raise StorageUnavailable("the store did not answer in time") from None
        except (FileNotFoundError, ExpiredOrForged):
            outcome = "ok"  # the store answered: there is no such file, or no valid link
            raise
        finally:
            self._observe(function.__name__, outcome, time.perf_counter() - started)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
