"""SQL for the retention schedule: which sessions' snapshots the policy must look at, and
from when. Leased like pending deletions: one sweeper at a time works on a session."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from solo.db.conflicts import insert_unless_present
from solo.db.models import RetentionDueRow, SessionRow, table_of

_due = table_of(RetentionDueRow)
_sessions = table_of(SessionRow)


class RetentionSchedule:
    def __init__(self, db: sa.Connection) -> None:
        self._db = db

    def due_at(self, session_id: uuid.UUID, at: dt.datetime) -> None:
        """Look at the session's snapshots from `at` on (sooner, if it was due sooner)."""
        if insert_unless_present(self._db, _due, {"session_id": session_id, "due_at": at}):
            return
        self._db.execute(
            sa.update(_due)
            .where(_due.c.session_id == session_id, _due.c.due_at > at)
            .values(due_at=at)
        )

    def due(self, now: dt.datetime, limit: int) -> list[tuple[uuid.UUID, str, dt.datetime]]:
        """(session, owner, due_at) of the sessions due by `now`, longest due first."""
        rows = self._db.execute(
            sa.select(_due.c.session_id, _sessions.c.owner, _due.c.due_at)
            .join(_sessions, _sessions.c.id == _due.c.session_id)
            .where(_due.c.due_at <= now)
            .order_by(_due.c.due_at)
            .limit(limit)
        )
        return [(row.session_id, row.owner, row.due_at) for row in rows]

    def lease(self, session_id: uuid.UUID, seen: dt.datetime, until: dt.datetime) -> bool:
        """Take the session until `until` if nobody took it since it was seen due."""
        result = self._db.execute(
            sa.update(_due)
            .where(_due.c.session_id == session_id, _due.c.due_at == seen)
            .values(due_at=until)
        )
        return result.rowcount == 1

    def reviewed(
        self, session_id: uuid.UUID, leased: dt.datetime, then: dt.datetime | None
    ) -> None:
        """The lease is done: due again `then`, or not until a new snapshot (None). A
        snapshot made meanwhile made it due sooner than the lease: that stays."""
        this_lease = sa.and_(_due.c.session_id == session_id, _due.c.due_at == leased)
        if then is None:
            self._db.execute(sa.delete(_due).where(this_lease))
        else:
            self._db.execute(sa.update(_due).where(this_lease).values(due_at=then))
