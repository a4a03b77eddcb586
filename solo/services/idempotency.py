"""Idempotency-Key on snapshots: the first successful answer, replayed for 60 s."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from solo import limits
from solo.domain.errors import IdempotencyInProgress, IdempotencyKeyReused
from solo.domain.model import Clock, StoredIdempotencyKey
from solo.services.ports import Database, UnitOfWork

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool


async def once(
    db: Database,
    *,
    owner: str,
    key: str,
    fingerprint: str,
    clock: Clock,
    work: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
) -> Outcome:
    """Run `work` once per (owner, key) within the TTL; replay its answer after that.

    The claim is a row committed before the work starts, so every server process sees
    it. Errors are not kept: the row is released and the key can be retried.
    """
    existing = await db.in_database_thread(
        _claim, db.unit_of_work(), owner, key, fingerprint, clock()
    )
    if existing is not None:
        if existing.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        if existing.status_code is None:
            raise IdempotencyInProgress()
        return Outcome(existing.status_code, existing.body, replayed=True)
    try:
        status, body = await work()
    except BaseException:
        await _released(db, owner, key)
        raise
    await db.in_database_thread(_complete, db.unit_of_work(), owner, key, status, body)
    return Outcome(status, body, replayed=False)


def _complete(uow: UnitOfWork, owner: str, key: str, status: int, body: dict[str, Any]) -> None:
    with uow.write():
        uow.idempotency.complete(owner, key, status, body)
        uow.commit()


async def _released(db: Database, owner: str, key: str) -> None:
    """The key is free again; if even that fails, it expires with its TTL."""

    def release(uow: UnitOfWork) -> None:
        with uow.write():
            uow.idempotency.release(owner, key)
            uow.commit()

    try:
        await db.in_database_thread(release, db.unit_of_work())
    except Exception:
        log.exception("Idempotency-Key %r stays claimed until it expires", key)


def _claim(
    uow: UnitOfWork, owner: str, key: str, fingerprint: str, now: dt.datetime
) -> StoredIdempotencyKey | None:
    """None once this call holds the key; else the record of whoever holds it."""
    expires_at = now + dt.timedelta(seconds=limits.IDEMPOTENCY_TTL_SECONDS)
    while True:
        with uow.write():
            uow.idempotency.purge_expired(now)
            claimed = uow.idempotency.claim(owner, key, fingerprint, expires_at)
            existing = None if claimed else uow.idempotency.get(owner, key)
            uow.commit()
        # Neither claimed nor found: the holder released it between the two statements.
        if claimed or existing is not None:
            return existing
