"""The blob store as requests use it: on its own few threads, each call within a deadline.

A store that hangs holds these threads only: never the event loop, never a database
thread or transaction. A call that has not finished by the deadline (queueing included)
is StorageUnavailable, which requests answer with 503.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

from solo.domain.errors import StorageUnavailable
from solo.runtime.bulkheads import Late, finished_within
from solo.runtime.metrics import Outcome
from solo.storage import BlobStore, ExpiredOrForged, NoSuchObject

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
        self._store = store
        self._deadline = deadline_seconds
        self._observe = observe
        """Told each call's verb, outcome and seconds (queueing included)."""
        self._threads = concurrent.futures.ThreadPoolExecutor(
            threads, thread_name_prefix="solo-storage"
        )

    async def put(self, key: str, data: bytes) -> None:
        await self._call(self._store.put, key, data)

    async def get(self, key: str) -> bytes | None:
        return await self._call(self._store.get, key)

    async def delete(self, key: str) -> None:
        await self._call(self._store.delete, key)

    async def delete_many(self, keys: Sequence[str]) -> None:
        await self._call(self._store.delete_many, keys)

    async def delete_prefix(self, prefix: str) -> None:
        await self._call(self._store.delete_prefix, prefix)

    async def download(self, token: str) -> bytes:
        return await self._call(self._store.download, token)

    async def remove_leftovers(self, older_than_seconds: float) -> int:
        return await self._call(self._store.remove_leftovers, older_than_seconds)

    async def check(self, deadline_seconds: float) -> None:
        await self._call_within(deadline_seconds, self._store.check)

    @property
    def deadline_seconds(self) -> float:
        """The longest one call may take, queueing included."""
        return self._deadline

    def url(self, key: str, ttl_seconds: int) -> str:
        """Signing a URL does no I/O on either store: it runs where it is called."""
        return self._store.url(key, ttl_seconds)

    async def _call(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """A blocking call on the store's threads, within the deadline."""
        return await self._call_within(self._deadline, function, *args, **kwargs)

    async def _call_within(
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
        except (NoSuchObject, ExpiredOrForged):
            outcome = "ok"  # the store answered: there is no such object, or no valid link
            raise
        finally:
            self._observe(function.__name__, outcome, time.perf_counter() - started)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)
