"""Snapshots: the current state written to object storage, listed, exported."""

from __future__ import annotations

import dataclasses
import json
import logging
import uuid

from solo import limits
from solo.db.repository import StoredSession
from solo.db.snapshots import StoredSnapshot
from solo.db.uow import UnitOfWork
from solo.errors import NotFound, Unavailable
from solo.services.sessions import Clock
from solo.storage import BlobStore, StorageUnavailable, snapshot_key

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class SnapshotPage:
    items: list[StoredSnapshot]
    next_before_rev: int | None


def take_snapshot(
    uow: UnitOfWork, store: BlobStore, owner: str, session_id: uuid.UUID, clock: Clock
) -> tuple[StoredSnapshot, bool]:
    """The snapshot of the current rev, and whether this call wrote it.

    The object is written before its row, so a listed snapshot always exists.
    """
    with uow:
        session = _owned(uow, owner, session_id)
        existing = uow.snapshots.get(session_id, session.rev)
    if existing is not None:
        return existing, False
    now = clock()
    document = {
        "session_id": str(session_id),
        "rev": session.rev,
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "state": session.state,
    }
    data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    snapshot = StoredSnapshot(
        session.rev, snapshot_key(owner, str(session_id), session.rev), len(data), now
    )
    try:
        store.put(snapshot.key, data)
    except StorageUnavailable as exc:
        log.error("snapshot of %s rev %s not written: %s", session_id, session.rev, exc)
        raise Unavailable({"storage": "unavailable"}) from None
    log.info("snapshot written key=%s bytes=%s", snapshot.key, snapshot.size)
    with uow:
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
    uow: UnitOfWork, owner: str, session_id: uuid.UUID
) -> tuple[StoredSession, list[StoredSnapshot]]:
    with uow:
        session = _owned(uow, owner, session_id)
        snapshots = uow.snapshots.newest(session_id, limit=session.rev + 1)
    return session, snapshots


def fit_export(document: dict) -> bytes:
    """The export as JSON within the export limit: the oldest snapshot entries go first."""
    snapshots = document["snapshots"]

    def render(kept: int) -> bytes:
        fitted = {
            **document,
            "snapshots": snapshots[:kept],
            "snapshots_truncated": kept < len(snapshots),
        }
        return json.dumps(fitted, ensure_ascii=False, separators=(",", ":")).encode()

    body = render(len(snapshots))
    if len(body) <= limits.EXPORT_RESPONSE_LIMIT:
        return body
    low, high = 0, len(snapshots) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if len(render(middle)) <= limits.EXPORT_RESPONSE_LIMIT:
            low = middle
        else:
            high = middle - 1
    return render(low)


def _owned(uow: UnitOfWork, owner: str, session_id: uuid.UUID) -> StoredSession:
    session = uow.sessions.get(owner, session_id)
    if session is None:
        raise NotFound()
    return session
