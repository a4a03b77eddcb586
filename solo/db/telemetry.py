"""SQL for beacon telemetry."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from solo.db.models import SessionRow, TelemetryEventRow


class TelemetryRepository:
    def __init__(self, db: sa.Connection) -> None:
        self._db = db

    def record(self, owner: str, session_id: uuid.UUID, payload: object, now: dt.datetime) -> bool:
        """Store the event and touch last_seen_at; False if the session is not the owner's."""
        touched = self._db.execute(
            sa.update(SessionRow)
            .where(SessionRow.id == session_id, SessionRow.owner == owner)
            .values(last_seen_at=now)
        )
        if touched.rowcount != 1:
            return False
        self._db.execute(
            sa.insert(TelemetryEventRow).values(
                session_id=session_id, owner=owner, received_at=now, payload=payload
            )
        )
        return True

    def keep_newest(self, session_id: uuid.UUID, keep: int) -> None:
        """Delete all but the `keep` newest events of the session."""
        boundary = (
            sa.select(TelemetryEventRow.id)
            .where(TelemetryEventRow.session_id == session_id)
            .order_by(TelemetryEventRow.id.desc())
            .offset(keep - 1)
            .limit(1)
            .scalar_subquery()
        )
        self._db.execute(
            sa.delete(TelemetryEventRow).where(
                TelemetryEventRow.session_id == session_id, TelemetryEventRow.id < boundary
            )
        )
