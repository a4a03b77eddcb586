"""SQL for each user's usage: one row per user, changed in the transactions that change
what it counts, and checked against the quotas there."""

from __future__ import annotations

import sqlalchemy as sa

from solo.db.conflicts import insert_unless_present
from solo.db.models import QuotaUsageRow, table_of
from solo.domain.quotas import Quotas, Usage

_usage = table_of(QuotaUsageRow)


class UsageRepository:
    def __init__(self, db: sa.Connection, quotas: Quotas) -> None:
        self._db = db
        self.quotas = quotas

    def of(self, owner: str) -> Usage:
        row = self._db.execute(
            sa.select(_usage.c.sessions, _usage.c.bytes).where(_usage.c.owner == owner)
        ).first()
        return Usage(0, 0) if row is None else Usage(row.sessions, row.bytes)

    def open(self, owner: str) -> None:
        """The owner's row, at zero if they had none."""
        insert_unless_present(self._db, _usage, {"owner": owner, "sessions": 0, "bytes": 0})

    def charge(self, owner: str, *, sessions: int = 0, bytes: int = 0) -> bool:
        """Add to the owner's usage (take off, when negative) unless a part that grows
        would pass its quota: then False, and nothing changes. The row stays locked until
        the transaction ends, so racing writers of one user are counted one at a time
        (PostgreSQL re-reads the row it waited for before it checks)."""
        statement = sa.update(_usage).where(_usage.c.owner == owner)
        if sessions > 0:
            statement = statement.where(_usage.c.sessions + sessions <= self.quotas.sessions)
        if bytes > 0:
            statement = statement.where(_usage.c.bytes + bytes <= self.quotas.bytes)
        result = self._db.execute(
            statement.values(sessions=_usage.c.sessions + sessions, bytes=_usage.c.bytes + bytes)
        )
        return result.rowcount == 1
