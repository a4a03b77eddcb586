"""The snapshot objects this process is writing right now, by session and rev.

Many requests for the same session's snapshot at once find its rev claimed by the first
(`take_snapshot`). Those in this process wait here for that write to end, then ask the
database once more; only a claim held by another process is polled for. Polling every
request's claim on the database threads would let a slow store fill those threads, and
answer a snapshot's 503 as the database's rather than the store's.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator


class SnapshotWrites:
    """Used on the event loop's thread only."""

    def __init__(self, *, poll_seconds: float) -> None:
        self._poll_seconds = poll_seconds
        self._ends: dict[tuple[uuid.UUID, int], asyncio.Event] = {}

    @contextlib.contextmanager
    def writing(self, session_id: uuid.UUID, rev: int) -> Iterator[None]:
        """Held while this process writes the snapshot of `rev`, whatever the outcome.

        A write that failed gives its claim back before it ends here, so a request that
        polled may claim the rev and begin its own write meanwhile: the later write is
        the one waited for from then on."""
        key = (session_id, rev)
        ended = self._ends[key] = asyncio.Event()
        try:
            yield
        finally:
            if self._ends.get(key) is ended:
                del self._ends[key]
            ended.set()

    async def ended(self, session_id: uuid.UUID, rev: int, *, within: float) -> None:
        """Back when this process's write of `rev` ends, or after a poll's pause when no
        write of it runs here; never later than `within` seconds."""
        ended = self._ends.get((session_id, rev))
        if ended is None:
            await asyncio.sleep(min(self._poll_seconds, max(within, 0.0)))
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ended.wait(), max(within, 0.0))
