"""Idempotency-Keys (the IETF draft, with Stripe's semantics): one mechanism for every
write. A key comes before anything else about its request: a key whose request was applied
replays that request's answer, whatever the request would be refused for now, and nothing
is applied twice.

Writes (create, diff, save-stream, restore, delete) record their key in their own
transaction, with the rev they made: there is a key exactly when there is a committed
change, and a write's key goes with its change when the log forgets it (a delete's
expires after IDEMPOTENCY_DELETE_TTL_SECONDS). A snapshot writes to the store outside any
transaction, so its key is claimed first (other requests with it meanwhile are
`idempotency_in_progress`), completed with the answer, or released on failure, and kept
IDEMPOTENCY_TTL_SECONDS.
"""

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
class Keyed:
    """An Idempotency-Key, with the fingerprint of the request it came with (its method,
    path, body and precondition): the same key with another request is refused."""

    key: str
    fingerprint: str


def answered(
    uow: UnitOfWork, owner: str, keyed: Keyed | None, now: dt.datetime
) -> StoredIdempotencyKey | None:
    """The answer recorded for `keyed`, if its request was applied (read inside the
    write's transaction, before any refusal is answered); IdempotencyKeyReused when the
    key came with another request, IdempotencyInProgress while that one still runs."""
    if keyed is None:
        return None
    return _checked(uow.idempotency.get(owner, keyed.key, now=now), keyed)


def _checked(stored: StoredIdempotencyKey | None, keyed: Keyed) -> StoredIdempotencyKey | None:
    if stored is None:
        return None
    if stored.fingerprint != keyed.fingerprint:
        raise IdempotencyKeyReused()
    if stored.status_code is None:
        raise IdempotencyInProgress()
    return stored


@dataclasses.dataclass(frozen=True)
class Outcome:
    status: int
    body: Any
    replayed: bool


async def once(
    db: Database,
    *,
    owner: str,
    keyed: Keyed,
    clock: Clock,
    work: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
) -> Outcome:
    """Run `work` (whose effect lies outside the database: a snapshot) once per key; replay
    its answer while the key is kept. The claim is committed before the work starts, so
    every server process sees it. Errors are not kept: the claim is released."""
    existing = await db.in_database_thread(_claim, db.unit_of_work(), owner, keyed, clock())
    if existing is not None:
        assert existing.status_code is not None
        return Outcome(existing.status_code, existing.body, replayed=True)
    try:
        status, body = await work()
    except BaseException:
        await _released(db, owner, keyed.key)
        raise
    await db.in_database_thread(_complete, db.unit_of_work(), owner, keyed.key, status, body)
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
    uow: UnitOfWork, owner: str, keyed: Keyed, now: dt.datetime
) -> StoredIdempotencyKey | None:
    """None once this call holds the key; else the answer it already has."""
    expires_at = now + dt.timedelta(seconds=limits.IDEMPOTENCY_TTL_SECONDS)
    while True:
        with uow.write():
            uow.idempotency.purge_expired(now)
            claimed = uow.idempotency.claim(owner, keyed.key, keyed.fingerprint, expires_at)
            existing = None if claimed else uow.idempotency.get(owner, keyed.key, now=now)
            uow.commit()
        # Neither claimed nor found: the holder released it between the two statements.
        if claimed:
            return None
        if existing is not None:
            return _checked(existing, keyed)


def delete_expires(now: dt.datetime) -> dt.datetime:
    """When a delete's key is forgotten."""
    return now + dt.timedelta(seconds=limits.IDEMPOTENCY_DELETE_TTL_SECONDS)
