"""SQL for sessions: the only module that knows how they are stored."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Session as DbSession

from solo.db.models import SessionRow


@dataclasses.dataclass(frozen=True)
class StoredSession:
    id: uuid.UUID
    owner: str
    state: dict
    rev: int
    created_at: dt.datetime
    updated_at: dt.datetime
    last_seen_at: dt.datetime | None = None
    """When the last beacon arrived."""


@dataclasses.dataclass(frozen=True)
class PageCursor:
    """Keyset position: the last (created_at, id) a client has seen."""

    created_at: dt.datetime
    id: uuid.UUID


_SUMMARY_COLUMNS = (
    SessionRow.id,
    SessionRow.owner,
    SessionRow.rev,
    SessionRow.created_at,
    SessionRow.updated_at,
)


class SessionRepository:
    def __init__(self, db: DbSession) -> None:
        self._db = db

    def add(self, stored: StoredSession) -> None:
        self._db.execute(sa.insert(SessionRow).values(**dataclasses.asdict(stored)))

    def get(self, owner: str, session_id: uuid.UUID) -> StoredSession | None:
        row = self._db.execute(
            sa.select(SessionRow).where(SessionRow.id == session_id, SessionRow.owner == owner)
        ).scalar_one_or_none()
        if row is None:
            return None
        return StoredSession(
            row.id, row.owner, row.state, row.rev, row.created_at, row.updated_at, row.last_seen_at
        )

    def current_rev(self, owner: str, session_id: uuid.UUID) -> int | None:
        return self._db.execute(
            sa.select(SessionRow.rev).where(SessionRow.id == session_id, SessionRow.owner == owner)
        ).scalar_one_or_none()

    def list_page(self, owner: str, after: PageCursor | None, limit: int) -> list[StoredSession]:
        """Newest first; `state` is left empty since listings never carry it."""
        query = sa.select(*_SUMMARY_COLUMNS).where(SessionRow.owner == owner)
        if after is not None:
            query = query.where(
                sa.or_(
                    SessionRow.created_at < after.created_at,
                    sa.and_(
                        SessionRow.created_at == after.created_at,
                        SessionRow.id < after.id,
                    ),
                )
            )
        query = query.order_by(SessionRow.created_at.desc(), SessionRow.id.desc())
        rows = self._db.execute(query.limit(limit)).all()
        return [StoredSession(r.id, r.owner, {}, r.rev, r.created_at, r.updated_at) for r in rows]

    def compare_and_swap(
        self,
        owner: str,
        session_id: uuid.UUID,
        expected_rev: int,
        state: dict,
        now: dt.datetime,
    ) -> bool:
        """Write `state` as rev+1 only if the stored rev is still `expected_rev`."""
        result = self._db.execute(
            sa.update(SessionRow)
            .where(
                SessionRow.id == session_id,
                SessionRow.owner == owner,
                SessionRow.rev == expected_rev,
            )
            .values(state=state, rev=SessionRow.rev + 1, updated_at=now)
        )
        return result.rowcount == 1

    def delete(self, owner: str, session_id: uuid.UUID, expected_rev: int) -> bool:
        result = self._db.execute(
            sa.delete(SessionRow).where(
                SessionRow.id == session_id,
                SessionRow.owner == owner,
                SessionRow.rev == expected_rev,
            )
        )
        return result.rowcount == 1
