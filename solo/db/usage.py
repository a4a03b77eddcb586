"""SQL for each user's usage: one row per user, changed in the transactions that change
what it counts, and checked against the quotas there."""

from __future__ import annotations

import functools

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
        result = self._db.execute(
            _charge(more_sessions=sessions > 0, more_bytes=bytes > 0),
            {
                "usage_owner": owner,
                "more_sessions": sessions,
                "more_bytes": bytes,
                "sessions_quota": self.quotas.sessions,
                "bytes_quota": self.quotas.bytes,
            },
        )
        return result.rowcount == 1


@functools.cache
def _charge(*, more_sessions: bool, more_bytes: bool) -> sa.Update:
    """The charge, checking the quota of each part that grows; built once per shape, with
    its values as parameters (building it per call cost more than running it)."""
    sessions, size = (
        _usage.c.sessions + sa.bindparam("more_sessions"),
        _usage.c.bytes + sa.bindparam("more_bytes"),
    )
    statement = sa.update(_usage).where(_usage.c.owner == sa.bindparam("usage_owner"))
    if more_sessions:
        statement = statement.where(sessions <= sa.bindparam("sessions_quota"))
    if more_bytes:
        statement = statement.where(size <= sa.bindparam("bytes_quota"))
    return statement.values(sessions=sessions, bytes=size)
