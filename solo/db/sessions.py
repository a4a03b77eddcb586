"""SQL for sessions: the only module that knows how a session's head is stored.

Statements are built once: the hot path only binds values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from solo.db import sqlite_driver
from solo.db.models import (
    BYTES_NOT_NEGATIVE,
    CheckpointRow,
    IdempotencyKeyRow,
    SessionRow,
    aware_utc,
    naive_utc,
    table_of,
)
from solo.db.revisions import REVISIONS_CHANNEL, announcement
from solo.domain import jsonvalue
from solo.domain.model import AnsweredKey, LoggedChange, PageCursor, Session, Swap

if TYPE_CHECKING:  # psycopg is imported only where PostgreSQL is configured
    from solo.db.postgres_driver import Autocommitted

_sessions = table_of(SessionRow)
_checkpoints = table_of(CheckpointRow)
_this_session = sa.and_(
    _sessions.c.id == sa.bindparam("session_id"), _sessions.c.owner == sa.bindparam("session_owner")
)
_GET = sa.select(_sessions).where(_this_session)
_GET_FOR_UPDATE = _GET.with_for_update()
_GET_HELD = _GET.with_for_update(read=True, key_share=True)
_ADVANCE = (
    sa.update(_sessions)
    .where(_this_session, _sessions.c.rev == sa.bindparam("expected_rev"))
    .values(
        rev=sa.bindparam("new_rev"),
        size=sa.bindparam("new_size"),
        updated_at=sa.bindparam("new_updated_at"),
        checkpoint_rev=sa.bindparam("new_checkpoint_rev"),
        replay_cost=sa.bindparam("new_replay_cost"),
        kept_bytes=sa.bindparam("new_kept_bytes"),
    )
)
_DELETE = sa.delete(_sessions).where(_this_session, _sessions.c.rev == sa.bindparam("expected_rev"))
_INSERT = sa.insert(_sessions)
_ADVANCE_AND_LOG = """
    -- One statement, so one round trip in autocommit: the compare-and-swap, the change it
    -- logs (with its Idempotency-Key), and the announcement when the session is watched,
    -- all or nothing.
    WITH found AS (
        SELECT * FROM sessions WHERE id = :session_id AND owner = :session_owner
    ), advanced AS (
        UPDATE sessions
        SET rev = :new_rev, size = :new_size, updated_at = :new_updated_at,
            replay_cost = :new_replay_cost, kept_bytes = :new_kept_bytes
        WHERE id = :session_id AND owner = :session_owner AND rev = :expected_rev
        RETURNING watched_until
    ), charged AS (
        -- The owner's usage grows (or shrinks) with the state, after the swap, so locks
        -- are taken in the locked path's order (the session's row, then the usage row).
        -- Past the quota the usage would become -1, which its CHECK refuses: the whole
        -- statement fails, and the locked path refuses the write.
        UPDATE quota_usage
        SET bytes = CASE WHEN :grown > 0 AND bytes + :grown > :bytes_quota
                         THEN -1 ELSE bytes + :grown END
        WHERE owner = :session_owner AND :grown <> 0 AND EXISTS (SELECT 1 FROM advanced)
    ), logged AS (
        INSERT INTO changes (session_id, rev, at, ops)
        SELECT :session_id, :new_rev, :new_updated_at, :ops FROM advanced
    ), announced AS (
        SELECT pg_notify(:channel, :announcement) FROM advanced
        WHERE watched_until > :new_updated_at
    ), missed AS (
        -- A swap lost to writes this process has not seen: their changes, read in the same
        -- snapshot as the head found, so that catching up costs no other round trip. Only
        -- after a checkpoint no later than the rev expected: the log keeps all of those.
        SELECT array_agg(changes.rev ORDER BY changes.rev) AS revs,
               array_agg(changes.at ORDER BY changes.rev) AS ats,
               array_agg(changes.ops ORDER BY changes.rev) AS ops
        FROM changes JOIN found ON changes.session_id = found.id
        WHERE changes.rev > :expected_rev AND changes.rev <= found.rev
          AND found.checkpoint_rev <= :expected_rev AND NOT EXISTS (SELECT 1 FROM advanced)
    ){keyed}
    SELECT (SELECT count(*) FROM advanced) AS advanced,
           (SELECT count(*) FROM announced) AS announced,
           missed.revs AS missed_revs, missed.ats AS missed_ats, missed.ops AS missed_ops,
           found.*
    FROM (SELECT 1) AS one LEFT JOIN found ON true CROSS JOIN missed
"""
_KEYED = """, keyed AS (
        -- A plain INSERT: a key already there (live, or expired but not yet purged) fails
        -- the whole statement, and the locked path replays or takes the key over.
        INSERT INTO idempotency_keys (owner, key, fingerprint, status_code, body, session_id, rev)
        SELECT :session_owner, :key, :fingerprint, 200, CAST(:key_body AS json),
               :session_id, :new_rev
        FROM advanced
    )"""


def _advance_and_log(*, keyed: bool) -> sa.TextClause:
    # Run by psycopg (solo.db.postgres_driver), which binds each value as it is.
    return sa.text(_ADVANCE_AND_LOG.format(keyed=_KEYED if keyed else ""))


_ADVANCE_AND_LOG_KEY_FREE = _advance_and_log(keyed=False)
_ADVANCE_AND_LOG_KEYED = _advance_and_log(keyed=True)
_INSERT_CHECKPOINT = sa.insert(_checkpoints)


def _refused_on_purpose(exc: sa.exc.IntegrityError) -> bool:
    """Whether the one-statement write failed as designed: past the bytes quota, or on a
    key already recorded."""
    diagnosis = getattr(exc.orig, "diag", None)
    constraint = getattr(diagnosis, "constraint_name", None)
    table = getattr(diagnosis, "table_name", None)
    return constraint == BYTES_NOT_NEGATIVE or table == IdempotencyKeyRow.__tablename__


def _session(row: sa.Row[Any]) -> Session:
    return Session(
        id=row.id,
        owner=row.owner,
        rev=row.rev,
        size=row.size,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_seen_at=row.last_seen_at,
        checkpoint_rev=row.checkpoint_rev,
        replay_cost=row.replay_cost,
        kept_bytes=row.kept_bytes,
        watched_until=row.watched_until,
    )


def _found(row: Any) -> Session:
    """The head the one-statement write found, its times aware UTC as `_GET` reads them."""
    times = ("created_at", "updated_at", "last_seen_at", "watched_until")
    return _session(row._replace(**{name: _aware(getattr(row, name)) for name in times}))


def _aware(stored: dt.datetime | None) -> dt.datetime | None:
    return None if stored is None else aware_utc(stored)


def _missed(row: Any) -> tuple[LoggedChange, ...]:
    if row.missed_revs is None:
        return ()
    return tuple(
        LoggedChange(rev, aware_utc(at), ops)
        for rev, at, ops in zip(row.missed_revs, row.missed_ats, row.missed_ops, strict=True)
    )


def _swap(current: Session, new: Session) -> dict[str, object]:
    """The values a compare-and-swap binds: which head it expects, and what it becomes."""
    return {
        "session_id": current.id,
        "session_owner": current.owner,
        "expected_rev": current.rev,
        "new_rev": new.rev,
        "new_size": new.size,
        "new_updated_at": new.updated_at,
        "new_checkpoint_rev": new.checkpoint_rev,
        "new_replay_cost": new.replay_cost,
        "new_kept_bytes": new.kept_bytes,
    }


class SessionRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def add(self, session: Session, state: bytes) -> None:
        """A new session, with its initial state as the checkpoint of its first rev."""
        self._db.execute(_INSERT, dataclasses.asdict(session))
        self._db.execute(
            _INSERT_CHECKPOINT, {"session_id": session.id, "rev": session.rev, "state": state}
        )

    def get(
        self, owner: str, session_id: uuid.UUID, *, for_update: bool = False, held: bool = False
    ) -> Session | None:
        """The session's head; `for_update` also locks its row until the transaction ends,
        `held` only against its deletion (PostgreSQL `FOR KEY SHARE`: writers go on)."""
        raw = sqlite_driver.driver(self._db)
        if raw is not None:  # SQLite takes no row locks: its writers are one at a time
            values = (sqlite_driver.session_id(session_id), owner)
            found = raw.execute(sqlite_driver.GET, values).fetchone()
            return None if found is None else sqlite_driver.session(found)
        query = _GET_FOR_UPDATE if for_update else _GET_HELD if held else _GET
        row = self._db.execute(query, {"session_id": session_id, "session_owner": owner}).first()
        return None if row is None else _session(row)

    def list_page(self, owner: str, after: PageCursor | None, limit: int) -> list[Session]:
        """Newest first."""
        query = sa.select(_sessions).where(_sessions.c.owner == owner)
        if after is not None:
            query = query.where(
                sa.or_(
                    _sessions.c.created_at < after.created_at,
                    sa.and_(_sessions.c.created_at == after.created_at, _sessions.c.id < after.id),
                )
            )
        query = query.order_by(_sessions.c.created_at.desc(), _sessions.c.id.desc())
        return [_session(row) for row in self._db.execute(query.limit(limit))]

    def advance(self, current: Session, new: Session) -> bool:
        """The compare-and-swap: move the head from `current` to `new` only if the stored
        rev is still `current.rev`."""
        raw = sqlite_driver.driver(self._db)
        if raw is not None:
            values = (
                *(new.rev, new.size, sqlite_driver.stored_time(new.updated_at)),
                *(new.checkpoint_rev, new.replay_cost, new.kept_bytes),
                *(sqlite_driver.session_id(current.id), current.owner, current.rev),
            )
            return raw.execute(sqlite_driver.ADVANCE, values).rowcount == 1
        result = self._db.execute(_ADVANCE, _swap(current, new))
        return result.rowcount == 1

    def watch(self, session_ids: list[uuid.UUID], until: dt.datetime) -> None:
        """Mark the sessions as streamed to some client until `until`."""
        self._db.execute(
            sa.update(_sessions).where(_sessions.c.id.in_(session_ids)).values(watched_until=until)
        )

    def heads(self, session_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, dt.datetime]]:
        """(rev, updated_at) of each of these sessions that exists, whoever owns it."""
        rows = self._db.execute(
            sa.select(_sessions.c.id, _sessions.c.rev, _sessions.c.updated_at).where(
                _sessions.c.id.in_(session_ids)
            )
        )
        return {row.id: (row.rev, row.updated_at) for row in rows}

    def delete(self, owner: str, session_id: uuid.UUID, expected_rev: int) -> bool:
        """Delete the session (its log, checkpoints, snapshots and telemetry cascade)."""
        result = self._db.execute(
            _DELETE,
            {"session_id": session_id, "session_owner": owner, "expected_rev": expected_rev},
        )
        return result.rowcount == 1


def advance_and_log(
    statements: Autocommitted,
    current: Session,
    new: Session,
    ops: bytes,
    *,
    bytes_quota: int,
    key: AnsweredKey | None = None,
) -> Swap:
    """PostgreSQL, on a connection in autocommit: `advance` to a rev that changes no
    checkpoint, with the change that made it logged (and announced if watched), its key
    recorded with its answer, and the owner's usage charged, in the same statement. Whether
    it swapped, the head it found (as it was before the swap) and the changes it lost to
    (`Swap`); nothing and no head when the state would pass the owner's bytes quota or the
    key is taken (the locked path then says so)."""
    announced = announcement(current.id, new.rev, new.updated_at, ops)
    values = {
        **_swap(current, new),
        "new_updated_at": naive_utc(new.updated_at),  # as UtcDateTime binds it
        "ops": ops,
        "channel": REVISIONS_CHANNEL,
        "announcement": announced,
        "grown": new.size - current.size,
        "bytes_quota": bytes_quota,
    }
    statement = _ADVANCE_AND_LOG_KEY_FREE
    if key is not None:
        statement = _ADVANCE_AND_LOG_KEYED
        values |= {
            "key": key.key,
            "fingerprint": key.fingerprint,
            "key_body": jsonvalue.encode(key.body).decode(),
        }
    try:
        row: Any = statements.one(statement, values)
    except sa.exc.IntegrityError as exc:
        if not _refused_on_purpose(exc):
            raise
        return Swap(swapped=False, found=None)
    if row.id is None:
        return Swap(swapped=row.advanced == 1, found=None)
    return Swap(swapped=row.advanced == 1, found=_found(row), missed=_missed(row))
