"""SQL for Idempotency-Keys: a user's key, the request it was first used for, its answer."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from solo.db.conflicts import insert_unless_present
from solo.db.models import IdempotencyKeyRow, table_of
from solo.domain.model import StoredIdempotencyKey

_keys = table_of(IdempotencyKeyRow)
_GET = sa.select(_keys.c.fingerprint, _keys.c.status_code, _keys.c.body, _keys.c.rev).where(
    _keys.c.owner == sa.bindparam("owner"),
    _keys.c.key == sa.bindparam("key"),
    sa.or_(_keys.c.expires_at.is_(None), _keys.c.expires_at > sa.bindparam("now")),
)
_FORGET = sa.delete(_keys).where(
    _keys.c.session_id == sa.bindparam("session_id"), _keys.c.rev <= sa.bindparam("up_to")
)


@functools.cache
def _record(dialect: str) -> Any:
    """INSERT a key, or take over its expired row (expired is as good as gone, and not
    every expired row is purged yet); nothing when a live row holds it. Built once."""
    insert: Any = postgresql.insert(_keys) if dialect == "postgresql" else sqlite.insert(_keys)
    columns = ("fingerprint", "status_code", "body", "expires_at", "session_id", "rev")
    return insert.on_conflict_do_update(
        index_elements=[_keys.c.owner, _keys.c.key],
        set_={name: insert.excluded[name] for name in columns},
        where=sa.and_(_keys.c.expires_at.is_not(None), _keys.c.expires_at <= sa.bindparam("now")),
    ).returning(sa.literal(1))


class IdempotencyRepository:
    def __init__(self, db: sa.Connection) -> None:
        self._db = db

    def purge_expired(self, now: dt.datetime) -> None:
        self._db.execute(sa.delete(IdempotencyKeyRow).where(IdempotencyKeyRow.expires_at <= now))

    def claim(self, owner: str, key: str, fingerprint: str, expires_at: dt.datetime) -> bool:
        """Record the key as in progress; False if it is already recorded."""
        values = {"owner": owner, "key": key, "fingerprint": fingerprint, "expires_at": expires_at}
        return insert_unless_present(self._db, _keys, values)

    def get(self, owner: str, key: str, *, now: dt.datetime) -> StoredIdempotencyKey | None:
        """The key's record, unless it has expired (not yet purged: as good as gone)."""
        row = self._db.execute(_GET, {"owner": owner, "key": key, "now": now}).first()
        return None if row is None else StoredIdempotencyKey(*row)

    def record(
        self,
        owner: str,
        key: str,
        fingerprint: str,
        *,
        status_code: int,
        body: object,
        session_id: uuid.UUID | None = None,
        rev: int | None = None,
        expires_at: dt.datetime | None = None,
        now: dt.datetime,
    ) -> bool:
        """Record a key with the answer of the write it made, in the write's transaction;
        False (nothing recorded) when a live row holds the key (taken meanwhile)."""
        values = {
            "owner": owner,
            "key": key,
            "fingerprint": fingerprint,
            "status_code": status_code,
            "body": body,
            "session_id": session_id,
            "rev": rev,
            "expires_at": expires_at,
            "now": now,
        }
        return self._db.execute(_record(self._db.dialect.name), values).first() is not None

    def forget(self, session_id: uuid.UUID, *, up_to_rev: int) -> None:
        """Forget the keys of the session's writes whose changes the log no longer keeps."""
        self._db.execute(_FORGET, {"session_id": session_id, "up_to": up_to_rev})

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
