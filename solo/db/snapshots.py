"""SQL for snapshots and Idempotency-Keys."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import sqlalchemy as sa

from solo.db.conflicts import insert_unless_present
from solo.db.models import IdempotencyKeyRow, SnapshotRow


@dataclasses.dataclass(frozen=True)
class StoredSnapshot:
    rev: int
    key: str
    size: int
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class StoredIdempotencyKey:
    fingerprint: str
    status_code: int | None
    body: object


class SnapshotRepository:
    def __init__(self, db: sa.Connection) -> None:
        self._db = db

    def add(self, session_id: uuid.UUID, snapshot: StoredSnapshot) -> bool:
        """False if this rev already has a snapshot."""
        values = {"session_id": session_id, **dataclasses.asdict(snapshot)}
        return insert_unless_present(self._db, SnapshotRow.__table__, values)

    def get(self, session_id: uuid.UUID, rev: int) -> StoredSnapshot | None:
        row = self._db.execute(
            sa.select(SnapshotRow.__table__).where(
                SnapshotRow.session_id == session_id, SnapshotRow.rev == rev
            )
        ).first()
        return None if row is None else _snapshot(row)

    def newest(
        self, session_id: uuid.UUID, limit: int, before_rev: int | None = None
    ) -> list[StoredSnapshot]:
        query = sa.select(SnapshotRow.__table__).where(SnapshotRow.session_id == session_id)
        if before_rev is not None:
            query = query.where(SnapshotRow.rev < before_rev)
        rows = self._db.execute(query.order_by(SnapshotRow.rev.desc()).limit(limit))
        return [_snapshot(row) for row in rows]


def _snapshot(row: sa.Row) -> StoredSnapshot:
    return StoredSnapshot(row.rev, row.key, row.size, row.created_at)


class IdempotencyRepository:
    def __init__(self, db: sa.Connection) -> None:
        self._db = db

    def purge_expired(self, now: dt.datetime) -> None:
        self._db.execute(sa.delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at <= now))

    def claim(self, owner: str, key: str, fingerprint: str, expires_at: dt.datetime) -> bool:
        """Record the key as in progress; False if it is already recorded."""
        values = {"owner": owner, "key": key, "fingerprint": fingerprint, "expires_at": expires_at}
        return insert_unless_present(self._db, IdempotencyKeyRow.__table__, values)

    def get(self, owner: str, key: str) -> StoredIdempotencyKey | None:
        row = self._db.execute(
            sa.select(
                IdempotencyKeyRow.fingerprint, IdempotencyKeyRow.status_code, IdempotencyKeyRow.body
            ).where(IdempotencyKeyRow.owner == owner, IdempotencyKeyRow.key == key)
        ).first()
        return None if row is None else StoredIdempotencyKey(*row)

    def complete(self, owner: str, key: str, status_code: int, body: object) -> None:
        self._db.execute(
            sa.update(IdempotencyKeyRow)
            .where(IdempotencyKeyRow.owner == owner, IdempotencyKeyRow.key == key)
            .values(status_code=status_code, body=body)
        )

    def release(self, owner: str, key: str) -> None:
        self._db.execute(
            sa.delete(IdempotencyKeyRow).where(
                IdempotencyKeyRow.owner == owner, IdempotencyKeyRow.key == key
            )
        )
