"""Snapshots: the current state written to object storage, and listed."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import uuid

from solo.domain.errors import NotFound, StorageUnavailable
from solo.domain.jsonvalue import timestamp, with_members
from solo.domain.keys import snapshot_key
from solo.domain.model import Clock, SnapshotClaim, StoredSnapshot
from solo.runtime.snapshot_writes import SnapshotWrites
from solo.runtime.state_cache import StateCache
from solo.services import quota
from solo.services.ownership import owned
from solo.services.ports import Database, Store, UnitOfWork
from solo.services.states import owned_state

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SnapshotPage:
    items: list[StoredSnapshot]
    next_before_rev: int | None


@dataclasses.dataclass(frozen=True)
class _Claimed:
    claim: SnapshotClaim
    document: bytes


@dataclasses.dataclass(frozen=True)
class _Pending:
    """Another request is writing this rev's snapshot."""

    rev: int


async def take_snapshot(
    db: Database,
    cache: StateCache,
    store: Store,
    *,
    writes: SnapshotWrites,
    owner: str,
    session_id: uuid.UUID,
    clock: Clock,
) -> tuple[StoredSnapshot, bool]:
    """The snapshot of the current rev, and whether this call wrote it.

    The rev is claimed in the database before its object is written, and the claim
    becomes the snapshot once the object exists: a listed snapshot always exists, and no
    object outlives its session. A session deleted meanwhile takes the claim with it; the
    object just written is then deleted here (or by the deletion's own later sweep, should
    this process die first). The store is never called inside a database transaction.
    A rev another request is writing is asked for again when that write ends (`writes`).
    """
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + store.deadline_seconds
    while True:
        found = await db.in_session_thread(
            session_id,
            _claim,
            db.unit_of_work(),
            cache,
            owner=owner,
            session_id=session_id,
            clock=clock,
        )
        if not isinstance(found, _Pending):
            break
        if loop.time() > give_up_at:
            raise StorageUnavailable("another request's snapshot of this rev is still written")
        await writes.ended(session_id, found.rev, within=give_up_at - loop.time())
    if isinstance(found, StoredSnapshot):
        return found, False
    with writes.writing(session_id, found.claim.snapshot.rev):
        return await _written(db, store, found), True


async def _written(db: Database, store: Store, found: _Claimed) -> StoredSnapshot:
    """The claimed snapshot, its object written and the claim completed."""
    claim = found.claim
    try:
        await store.put(claim.snapshot.key, found.document)
    except StorageUnavailable as exc:
        if not await _released(db, claim):
            raise NotFound() from None  # the session was deleted meanwhile, folder and all
        raise StorageUnavailable(
            f"snapshot {claim.snapshot.key} not written: {exc.detail}"
        ) from None
    if not await db.in_database_thread(_complete, db.unit_of_work(), claim):
        log.info("session %s was deleted while its snapshot was written", claim.session_id)
        with contextlib.suppress(StorageUnavailable):
            await store.delete(claim.snapshot.key)
        raise NotFound()
    log.info("snapshot written key=%s bytes=%s", claim.snapshot.key, claim.snapshot.size)
    return claim.snapshot


def _claim(
    uow: UnitOfWork, cache: StateCache, *, owner: str, session_id: uuid.UUID, clock: Clock
) -> StoredSnapshot | _Claimed | _Pending:
    """The written snapshot of the current rev, or a claim of it with its document, or
    _Pending. The claim is made with the session's row held against deletion (PostgreSQL
    `FOR KEY SHARE`, which writers do not wait for): a concurrent delete waits for the
    claim and removes it with the session, and never meets a foreign-key violation."""
    session, state = owned_state(uow, cache, owner=owner, session_id=session_id)
    with uow:
        existing = uow.snapshots.get(session_id, session.rev)
    if existing is not None:
        return existing
    now = clock()
    header = {"session_id": str(session_id), "rev": session.rev, "created_at": timestamp(now)}
    document = with_members(header, state=state)
    snapshot = StoredSnapshot(
        session.rev, snapshot_key(owner, str(session_id), session.rev), len(document), now
    )
    claim = SnapshotClaim(session_id, snapshot, secrets.token_hex(16), owner)
    with uow.write():
        owned(uow, owner=owner, session_id=session_id, held=True)
        if not uow.snapshots.claim(session_id, snapshot, claim.token):
            existing = uow.snapshots.get(session_id, session.rev)
            return _Pending(session.rev) if existing is None else existing
        if uow.deletions.pending(snapshot.key):
            # A deleted snapshot of this rev whose object may still be deleted: writing it
            # again now could lose the new object to that deletion.
            return _Pending(session.rev)
        quota.admit(uow, owner=owner, more_bytes=snapshot.size)
        uow.commit()
    return _Claimed(claim, document)


def _complete(uow: UnitOfWork, claim: SnapshotClaim) -> bool:
    with uow.write():
        completed = uow.snapshots.complete(claim)
        if completed:
            # One more snapshot: the retention policy may now let an older one go.
            uow.retention.due_at(claim.session_id, claim.snapshot.created_at)
        uow.commit()
    return completed


async def _released(db: Database, claim: SnapshotClaim) -> bool:
    """Give the rev back for another try; False if the claim was gone already (its
    session deleted). If even that fails, the claim stays until the sweeper reaps it."""

    def release(uow: UnitOfWork) -> bool:
        with uow.write():
            released = uow.snapshots.release(claim)
            if released:
                quota.release(uow, owner=claim.owner, fewer_bytes=claim.snapshot.size)
            uow.commit()
        return released

    try:
        return await db.in_database_thread(release, db.unit_of_work())
    except Exception:
        log.exception("the claim of snapshot %s stays until it is reaped", claim.snapshot.key)
        return True


def latest_snapshot(uow: UnitOfWork, *, owner: str, session_id: uuid.UUID) -> StoredSnapshot:
    with uow:
        owned(uow, owner=owner, session_id=session_id)
        newest = uow.snapshots.newest(session_id, limit=1)
    if not newest:
        raise NotFound("This session has no snapshot yet.")
    return newest[0]


def snapshot_of_rev(
    uow: UnitOfWork, *, owner: str, session_id: uuid.UUID, rev: int
) -> StoredSnapshot:
    with uow:
        owned(uow, owner=owner, session_id=session_id)
        snapshot = uow.snapshots.get(session_id, rev)
    if snapshot is None:
        raise NotFound("This session has no snapshot of that rev.")
    return snapshot


def list_snapshots(
    uow: UnitOfWork, *, owner: str, session_id: uuid.UUID, limit: int, before_rev: int | None
) -> SnapshotPage:
    with uow:
        owned(uow, owner=owner, session_id=session_id)
        rows = uow.snapshots.newest(session_id, limit + 1, before_rev)
    items = rows[:limit]
    return SnapshotPage(items, items[-1].rev if len(rows) > limit else None)
