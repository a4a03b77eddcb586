"""Readiness: does every dependency answer? Bounded, and shared by concurrent probes."""

from __future__ import annotations

import asyncio
import logging

from solo import limits
from solo.domain.errors import StorageUnavailable, Unavailable
from solo.services.ports import Database, Store, UnitOfWork

log = logging.getLogger(__name__)


class Readiness:
    """Each check has its own deadline; an answer is reused for READINESS_CACHE_SECONDS,
    and probes that arrive while a check runs wait for that one: any number of probes
    cost one check a second, and none waits longer than the deadline."""

    def __init__(self, db: Database, store: Store) -> None:
        self._db = db
        self._store = store
        self._checking: asyncio.Task[dict[str, str]] | None = None
        self._checked_at = float("-inf")

    async def checks(self) -> dict[str, str]:
        """The checks, all "ok"; or Unavailable naming what does not answer."""
        loop = asyncio.get_running_loop()
        stale = loop.time() - self._checked_at > limits.READINESS_CACHE_SECONDS
        if self._checking is None or (self._checking.done() and stale):
            self._checking = loop.create_task(self._check())
            self._checked_at = loop.time()
        checks = await asyncio.shield(self._checking)
        if "unavailable" in checks.values():
            raise Unavailable(checks)
        return checks

    async def _check(self) -> dict[str, str]:
        database, storage = await asyncio.gather(self._database(), self._storage())
        return {"database": database, "storage": storage}

    async def _database(self) -> str:
        try:
            async with asyncio.timeout(limits.READINESS_DEADLINE_SECONDS):
                await self._db.in_database_thread(_ping, self._db.unit_of_work())
        except Exception as exc:
            log.error("readiness: the database does not answer: %s", type(exc).__name__)
            return "unavailable"
        return "ok"

    async def _storage(self) -> str:
        try:
            await self._store.check(limits.READINESS_DEADLINE_SECONDS)
        except StorageUnavailable as exc:
            log.error("readiness: the snapshot store does not answer: %s", exc)
            return "unavailable"
        return "ok"


def _ping(uow: UnitOfWork) -> None:
    with uow:
        uow.ping()
