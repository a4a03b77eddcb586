"""SQL for sessions: the only module that knows how a session's head is stored."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import sqlalchemy as sa

from solo.db.models import CheckpointRow, SessionRow
from solo.domain.model import Session

_sessions = SessionRow.__table__
_checkpoints = CheckpointRow.__table__


@dataclasses.dataclass(frozen=True)
class PageCursor:
    """Keyset position: the last (created_at, id) a client has seen."""

    created_at: dt.datetime
    id: uuid.UUID


def _session(row: sa.Row) -> Session:
    return Session(
        id=row.id,
        owner=row.owner,
        rev=row.rev,
        size=row.size,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_seen_at=row.last_seen_at,
        checkpoint_rev=row.checkpoint_rev,
        log_bytes=row.log_bytes,
    )


class SessionRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def add(self, session: Session, state: bytes) -> None:
        """A new session, with its initial state as the checkpoint of its first rev."""
        self._db.execute(sa.insert(_sessions).values(**dataclasses.asdict(session)))
        self._db.execute(
            sa.insert(_checkpoints).values(session_id=session.id, rev=session.rev, state=state)
        )

    def get(self, owner: str, session_id: uuid.UUID, *, for_update: bool = False) -> Session | None:
        """The session's head; `for_update` also locks its row until the transaction ends."""
        query = sa.select(_sessions).where(_sessions.c.id == session_id, _sessions.c.owner == owner)
        if for_update:
            query = query.with_for_update()
        row = self._db.execute(query).first()
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
        result = self._db.execute(
            sa.update(_sessions)
            .where(
                _sessions.c.id == current.id,
                _sessions.c.owner == current.owner,
                _sessions.c.rev == current.rev,
            )
            .values(
                rev=new.rev,
                size=new.size,
                updated_at=new.updated_at,
                checkpoint_rev=new.checkpoint_rev,
                log_bytes=new.log_bytes,
            )
        )
        return result.rowcount == 1

    def delete(self, owner: str, session_id: uuid.UUID, expected_rev: int) -> bool:
        """Delete the session (its log, checkpoints, snapshots and telemetry cascade)."""
        result = self._db.execute(
            sa.delete(_sessions).where(
                _sessions.c.id == session_id,
                _sessions.c.owner == owner,
                _sessions.c.rev == expected_rev,
            )
        )
        return result.rowcount == 1
