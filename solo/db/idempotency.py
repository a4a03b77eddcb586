"""SQL for Idempotency-Keys: a user's key, the request it was first used for, its answer."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from solo.db.conflicts import insert_unless_present
from solo.db.models import IdempotencyKeyRow, table_of
from solo.domain.model import StoredIdempotencyKey


class IdempotencyRepository:
    def __init__(self, db: sa.Connection) -> None:
        self._db = db

    def purge_expired(self, now: dt.datetime) -> None:
        self._db.execute(sa.delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at <= now))

    def claim(self, owner: str, key: str, fingerprint: str, expires_at: dt.datetime) -> bool:
        """Record the key as in progress; False if it is already recorded."""
        values = {"owner": owner, "key": key, "fingerprint": fingerprint, "expires_at": expires_at}
        return insert_unless_present(self._db, table_of(IdempotencyKeyRow), values)

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
