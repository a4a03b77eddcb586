"""SQL for snapshots: claimed while their object is written, then listed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa

from solo.db.conflicts import insert_unless_present
from solo.db.models import SessionRow, SnapshotRow, table_of
from solo.domain.model import SnapshotClaim, StoredSnapshot

_snapshots = table_of(SnapshotRow)
_sessions = table_of(SessionRow)
_written = _snapshots.c.claim.is_(None)


class SnapshotRepository:
    def __init__(self, db: sa.Connection) -> None:
        self._db = db

    def claim(self, session_id: uuid.UUID, snapshot: StoredSnapshot, token: str) -> bool:
        """Record the snapshot as being written by `token`; False if this rev already has
        a row (written, or claimed by another request)."""
        values = {"session_id": session_id, **dataclasses.asdict(snapshot), "claim": token}
        return insert_unless_present(self._db, _snapshots, values)

    def complete(self, claim: SnapshotClaim) -> bool:
        """The object is written: the claim becomes the snapshot. False if the claim is
        gone (its session was deleted meanwhile, or the claim was reaped as stale)."""
        result = self._db.execute(
            sa.update(_snapshots)
            .where(*_claimed(claim.session_id, claim.snapshot.rev, claim.token))
            .values(claim=None)
        )
        return result.rowcount == 1

    def release(self, claim: SnapshotClaim) -> bool:
        """Drop the claim; False if it was gone already."""
        result = self._db.execute(
            sa.delete(_snapshots).where(
                *_claimed(claim.session_id, claim.snapshot.rev, claim.token)
            )
        )
        return result.rowcount == 1

    def claims_before(self, moment: dt.datetime, limit: int) -> list[SnapshotClaim]:
        """Claims made before `moment`: their requests are long over (killed, mostly)."""
        rows = self._db.execute(
            sa.select(_snapshots, _sessions.c.owner)
            .join(_sessions, _sessions.c.id == _snapshots.c.session_id)
            .where(_snapshots.c.claim.is_not(None), _snapshots.c.created_at < moment)
            .limit(limit)
        )
        return [SnapshotClaim(row.session_id, _snapshot(row), row.claim, row.owner) for row in rows]

    def get(self, session_id: uuid.UUID, rev: int) -> StoredSnapshot | None:
        """The written snapshot of this rev, if any."""
        row = self._db.execute(
            sa.select(_snapshots).where(
                _snapshots.c.session_id == session_id, _snapshots.c.rev == rev, _written
            )
        ).first()
        return None if row is None else _snapshot(row)

    def newest(
        self, session_id: uuid.UUID, limit: int, before_rev: int | None = None
    ) -> list[StoredSnapshot]:
        """Written snapshots, newest first."""
        query = sa.select(_snapshots).where(_snapshots.c.session_id == session_id, _written)
        if before_rev is not None:
            query = query.where(_snapshots.c.rev < before_rev)
        rows = self._db.execute(query.order_by(_snapshots.c.rev.desc()).limit(limit))
        return [_snapshot(row) for row in rows]

    def sessions_after(self, after: uuid.UUID | None, limit: int) -> list[tuple[uuid.UUID, str]]:
        """(session, owner) of sessions with written snapshots, by id, after `after`."""
        query = (
            sa.select(_sessions.c.id, _sessions.c.owner)
            .where(sa.exists().where(_snapshots.c.session_id == _sessions.c.id, _written))
            .order_by(_sessions.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(_sessions.c.id > after)
        return [(row.id, row.owner) for row in self._db.execute(query)]

    def every(self, session_id: uuid.UUID) -> list[StoredSnapshot]:
        """Every written snapshot of the session, newest first."""
        rows = self._db.execute(
            sa.select(_snapshots)
            .where(_snapshots.c.session_id == session_id, _written)
            .order_by(_snapshots.c.rev.desc())
        )
        return [_snapshot(row) for row in rows]

    def label(
        self, session_id: uuid.UUID, rev: int, labels: dict[str, object]
    ) -> StoredSnapshot | None:
        """Set the written snapshot's `name` and/or `pinned`; None if there is none."""
        this = (_snapshots.c.session_id == session_id, _snapshots.c.rev == rev, _written)
        if labels:
            self._db.execute(sa.update(_snapshots).where(*this).values(**labels))
        row = self._db.execute(sa.select(_snapshots).where(*this)).first()
        return None if row is None else _snapshot(row)

    def remove(self, session_id: uuid.UUID, revs: list[int]) -> list[StoredSnapshot]:
        """Delete these revs' written snapshots; the ones this transaction deleted."""
        rows = self._db.execute(
            sa.delete(_snapshots)
            .where(_snapshots.c.session_id == session_id, _snapshots.c.rev.in_(revs), _written)
            .returning(*_snapshots.c)
        )
        return [_snapshot(row) for row in rows]

    def remove_all(self, session_id: uuid.UUID) -> int:
        """Delete the session's snapshots, claims included; the bytes they counted."""
        rows = self._db.execute(
            sa.delete(_snapshots)
            .where(_snapshots.c.session_id == session_id)
            .returning(_snapshots.c.size)
        )
        return sum(row.size for row in rows)


def _claimed(session_id: uuid.UUID, rev: int, token: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (
        _snapshots.c.session_id == session_id,
        _snapshots.c.rev == rev,
        _snapshots.c.claim == token,
    )


def _snapshot(row: sa.Row[Any]) -> StoredSnapshot:
    return StoredSnapshot(row.rev, row.key, row.size, row.created_at, row.name, row.pinned)
