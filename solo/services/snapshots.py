"""Snapshots: the current state written to object storage, listed, exported."""

from __future__ import annotations

import dataclasses
import logging
import uuid

import orjson

from solo import limits
from solo.db.snapshots import StoredSnapshot
from solo.db.uow import UnitOfWork
from solo.domain.jsonvalue import timestamp, with_members
from solo.domain.model import Clock, Session
from solo.errors import NotFound, Unavailable
from solo.services.states import encoded_state
from solo.state_cache import StateCache
from solo.storage import BlobStore, StorageUnavailable, snapshot_key

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SnapshotPage:
    items: list[StoredSnapshot]
    next_before_rev: int | None


def take_snapshot(
    uow: UnitOfWork,
    cache: StateCache,
    store: BlobStore,
    owner: str,
    session_id: uuid.UUID,
    clock: Clock,
) -> tuple[StoredSnapshot, bool]:
    """The snapshot of the current rev, and whether this call wrote it.

    The object is written before its row, so a listed snapshot always exists.
    """
    with uow:
        session = _owned(uow, owner, session_id)
        existing = uow.snapshots.get(session_id, session.rev)
        state = None if existing is not None else encoded_state(uow, cache, session)
    if existing is not None or state is None:
        return existing, False
    now = clock()
    document = {"session_id": str(session_id), "rev": session.rev, "created_at": timestamp(now)}
    data = with_members(document, state=state)
    snapshot = StoredSnapshot(
        session.rev, snapshot_key(owner, str(session_id), session.rev), len(data), now
    )
    try:
        store.put(snapshot.key, data)
    except StorageUnavailable as exc:
        log.error("snapshot of %s rev %s not written: %s", session_id, session.rev, exc)
        raise Unavailable({"storage": "unavailable"}) from None
    log.info("snapshot written key=%s bytes=%s", snapshot.key, snapshot.size)
    with uow.write():
        if not uow.snapshots.add(session_id, snapshot):
            return uow.snapshots.get(session_id, session.rev), False
        uow.commit()
    return snapshot, True


def latest_snapshot(uow: UnitOfWork, owner: str, session_id: uuid.UUID) -> StoredSnapshot:
    with uow:
        _owned(uow, owner, session_id)
        newest = uow.snapshots.newest(session_id, limit=1)
    if not newest:
        raise NotFound("This session has no snapshot yet.")
    return newest[0]


def snapshot_of_rev(uow: UnitOfWork, owner: str, session_id: uuid.UUID, rev: int) -> StoredSnapshot:
    with uow:
        _owned(uow, owner, session_id)
        snapshot = uow.snapshots.get(session_id, rev)
    if snapshot is None:
        raise NotFound("This session has no snapshot of that rev.")
    return snapshot


def list_snapshots(
    uow: UnitOfWork, owner: str, session_id: uuid.UUID, limit: int, before_rev: int | None
) -> SnapshotPage:
    with uow:
        _owned(uow, owner, session_id)
        rows = uow.snapshots.newest(session_id, limit + 1, before_rev)
    items = rows[:limit]
    return SnapshotPage(items, items[-1].rev if len(rows) > limit else None)


def export_session(
    uow: UnitOfWork, cache: StateCache, owner: str, session_id: uuid.UUID
) -> tuple[Session, bytes, list[StoredSnapshot]]:
    """The session, its state's JSON and its snapshots, newest first."""
    with uow:
        session = _owned(uow, owner, session_id)
        state = encoded_state(uow, cache, session)
        snapshots = uow.snapshots.newest(session_id, limit=session.rev + 1)
    return session, state, snapshots


def fit_export(document: dict, state: bytes, snapshots: list[dict]) -> bytes:
    """The export as JSON within the export limit: the oldest snapshot entries go first.

    The state (at most the state limit) always fits; the entries are encoded once each
    and as many of the newest are kept as the rest of the limit allows.
    """
    entries = [orjson.dumps(entry) for entry in snapshots]
    room = limits.EXPORT_RESPONSE_LIMIT - len(
        with_members({**document, "snapshots": [], "snapshots_truncated": True}, state=state)
    )
    kept = 0
    for entry in entries:
        room -= len(entry) + (1 if kept else 0)
        if room < 0:
            break
        kept += 1
    fitted = {**document, "snapshots_truncated": kept < len(entries)}
    listed = b"[" + b",".join(entries[:kept]) + b"]"
    return with_members(fitted, state=state, snapshots=listed)


def _owned(uow: UnitOfWork, owner: str, session_id: uuid.UUID) -> Session:
    session = uow.sessions.get(owner, session_id)
    if session is None:
        raise NotFound()
    return session
