"""What must go from the snapshot store goes, whatever failed or died before.

A deleted session's objects are removed right after the delete; the deletion is also
recorded, in the delete's own transaction, and swept again once any snapshot that was
being written at that moment has settled, and until the store answers. Claims of
snapshots whose request died are reaped with their objects, and a killed process's
temporary files are removed. Every server process sweeps; leases keep them apart.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random

from solo import limits
from solo.domain.errors import StorageUnavailable
from solo.domain.model import Clock, SnapshotClaim
from solo.services import quota
from solo.services.ports import Database, Store, UnitOfWork

log = logging.getLogger(__name__)

_BATCH = 100


def settled(now: dt.datetime) -> dt.datetime:
    """When every snapshot being written at `now` has finished or died."""
    return now + dt.timedelta(seconds=limits.SNAPSHOT_SETTLE_SECONDS)


async def remove_objects(store: Store, prefix: str) -> None:
    """Remove a deleted session's objects now; when the store does not answer, the
    recorded deletion is retried by the sweep."""
    try:
        await store.delete_prefix(prefix)
    except StorageUnavailable as exc:
        log.error("objects under %s not deleted yet (the sweep retries): %s", prefix, exc)


async def remove_object(db: Database, store: Store, key: str, recorded: dt.datetime) -> None:
    """Remove one collected snapshot's object now, and its recorded deletion with it unless
    a sweeper took that meanwhile; when the store does not answer, the sweep retries."""
    try:
        await store.delete(key)
    except StorageUnavailable as exc:
        log.error("object %s not deleted yet (the sweep retries): %s", key, exc)
        return

    def removed(uow: UnitOfWork) -> None:
        with uow.write():
            uow.deletions.done_unless_taken(key, recorded)
            uow.commit()

    await db.in_database_thread(removed, db.unit_of_work())


async def _removed(store: Store, leased: list[str]) -> list[str]:
    """Carry out recorded deletions: every object under a prefix (`…/`, a deleted
    session's), and the objects at keys (collected snapshots', all in one call); the ones
    the store took."""
    keys = [key for key in leased if not key.endswith("/")]
    removed = []
    for prefix in (prefix for prefix in leased if prefix.endswith("/")):
        try:
            await store.delete_prefix(prefix)
            removed.append(prefix)
        except StorageUnavailable as exc:
            log.error("objects under %s not deleted yet: %s", prefix, exc)
    if keys:
        try:
            await store.delete_many(keys)
            removed.extend(keys)
        except StorageUnavailable as exc:
            log.error("%s collected objects not deleted yet: %s", len(keys), exc)
    return removed


async def sweeping(db: Database, store: Store, clock: Clock) -> None:
    """Sweep every SWEEP_SECONDS or so (jittered, so that processes spread out) forever."""
    while True:
        await asyncio.sleep(limits.SWEEP_SECONDS * random.uniform(0.5, 1.5))
        try:
            await sweep(db, store, clock)
        except Exception:
            log.exception("sweeping the snapshot store failed; trying again later")


async def sweep(db: Database, store: Store, clock: Clock) -> int:
    """One pass; how many recorded deletions it completed."""
    now = clock()
    leased = await db.in_database_thread(_leased_deletions, db.unit_of_work(), now)
    completed = await _removed(store, leased)
    if completed:
        await db.in_database_thread(_deleted, db.unit_of_work(), completed)
    stale = now - dt.timedelta(seconds=limits.SNAPSHOT_SETTLE_SECONDS)
    for claim in await db.in_database_thread(_stale_claims, db.unit_of_work(), stale):
        try:
            await store.delete(claim.snapshot.key)
        except StorageUnavailable:
            continue
        await db.in_database_thread(_reaped, db.unit_of_work(), claim)
    removed = await store.remove_leftovers(limits.SNAPSHOT_SETTLE_SECONDS)
    if removed:
        log.info("removed %s temporary files left by interrupted writes", removed)
    return len(completed)


def _leased_deletions(uow: UnitOfWork, now: dt.datetime) -> list[str]:
    lease = now + dt.timedelta(seconds=limits.SWEEP_RETRY_SECONDS)
    leased = []
    with uow.write():
        for prefix, seen in uow.deletions.due(now, _BATCH):
            if uow.deletions.lease(prefix, seen, lease):
                leased.append(prefix)
        uow.commit()
    return leased


def _deleted(uow: UnitOfWork, prefixes: list[str]) -> None:
    with uow.write():
        for prefix in prefixes:
            uow.deletions.done(prefix)
        uow.commit()


def _stale_claims(uow: UnitOfWork, before: dt.datetime) -> list[SnapshotClaim]:
    with uow:
        return uow.snapshots.claims_before(before, _BATCH)


def _reaped(uow: UnitOfWork, claim: SnapshotClaim) -> None:
    log.info("reaped the claim of snapshot %s, whose request died", claim.snapshot.key)
    with uow.write():
        if uow.snapshots.release(claim):
            quota.release(uow, owner=claim.owner, fewer_bytes=claim.snapshot.size)
        uow.commit()
