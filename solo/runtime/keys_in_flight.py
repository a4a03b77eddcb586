"""The Idempotency-Keys whose requests this process is running right now.

A repeat that arrives while its first request still runs here is refused at once with
`409 idempotency_in_progress` (and `Retry-After`), as the Idempotency-Key draft asks,
rather than queued behind it. A repeat that reaches another process meets the first in the
database instead: the session's row (or the key's unique index) makes it wait for the
first to commit, and it then replays its answer. Either way it is applied once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from solo.domain.errors import IdempotencyInProgress


class KeysInFlight:
    """Used on the event loop's thread only."""

    def __init__(self) -> None:
        self._running: set[tuple[str, str]] = set()

    @contextlib.contextmanager
    def held(self, owner: str, key: str | None) -> Iterator[None]:
        if key is None:
            yield
            return
        running = (owner, key)
        if running in self._running:
            raise IdempotencyInProgress()
        self._running.add(running)
        try:
            yield
        finally:
            self._running.discard(running)
