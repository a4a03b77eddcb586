"""SQL for pending deletions: what the sweeper must (still) remove from the store: every
object under a prefix (`…/`, a deleted session's), or one object (its key)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from solo.db.conflicts import insert_unless_present
from solo.db.models import PendingDeletionRow, table_of

_pending = table_of(PendingDeletionRow)


class PendingDeletions:
    def __init__(self, db: sa.Connection) -> None:
        self._db = db

    def add(self, prefix: str, not_before: dt.datetime) -> None:
        values = {"prefix": prefix, "not_before": not_before, "attempts": 0}
        insert_unless_present(self._db, _pending, values)

    def due(self, now: dt.datetime, limit: int) -> list[tuple[str, dt.datetime]]:
        """(prefix, not_before) of deletions whose time has come, oldest first."""
        rows = self._db.execute(
            sa.select(_pending.c.prefix, _pending.c.not_before)
            .where(_pending.c.not_before <= now)
            .order_by(_pending.c.not_before)
            .limit(limit)
        )
        return [(row.prefix, row.not_before) for row in rows]

    def lease(self, prefix: str, seen: dt.datetime, until: dt.datetime) -> bool:
        """Take the deletion until `until` if nobody took it since it was seen due: one
        sweeper works on it at a time, and if that one dies it is due again then."""
        result = self._db.execute(
            sa.update(_pending)
            .where(_pending.c.prefix == prefix, _pending.c.not_before == seen)
            .values(not_before=until, attempts=_pending.c.attempts + 1)
        )
        return result.rowcount == 1

    def done(self, prefix: str) -> None:
        self._db.execute(sa.delete(_pending).where(_pending.c.prefix == prefix))

    def done_unless_taken(self, prefix: str, not_before: dt.datetime) -> None:
        """Done, unless a sweeper took it since it was added (that one says when it is)."""
        self._db.execute(
            sa.delete(_pending).where(
                _pending.c.prefix == prefix, _pending.c.not_before == not_before
            )
        )

    def pending(self, prefix: str) -> bool:
        found = self._db.execute(sa.select(_pending.c.prefix).where(_pending.c.prefix == prefix))
        return found.first() is not None
