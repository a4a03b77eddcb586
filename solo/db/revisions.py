"""SQL for the revision log: the change that made each rev, and checkpoints of whole states."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import sqlalchemy as sa

from solo.db.models import ChangeRow, CheckpointRow, table_of

_changes = table_of(ChangeRow)
_checkpoints = table_of(CheckpointRow)
_APPEND = sa.insert(_changes)
_SAVE_CHECKPOINT = sa.insert(_checkpoints)
_CHECKPOINT = sa.select(_checkpoints.c.state).where(
    _checkpoints.c.session_id == sa.bindparam("session_id"),
    _checkpoints.c.rev == sa.bindparam("rev"),
)


@dataclasses.dataclass(frozen=True)
class LoggedChange:
    rev: int
    at: dt.datetime
    ops: bytes | None
    """Canonical JSON of the ops; None when the rev replaced the whole state (its
    checkpoint then holds that state)."""


REVISIONS_CHANNEL = "solo_revisions"
"""The PostgreSQL NOTIFY channel on which writers announce revisions of watched sessions."""

_ANNOUNCE = sa.select(sa.func.pg_notify(REVISIONS_CHANNEL, sa.bindparam("payload")))


def announcement(session_id: uuid.UUID, rev: int, at: dt.datetime) -> str:
    return f"{session_id} {rev} {at.isoformat()}"


def announced(payload: str) -> tuple[uuid.UUID, int, dt.datetime]:
    session_id, rev, at = payload.split(" ")
    return uuid.UUID(session_id), int(rev), dt.datetime.fromisoformat(at)


class RevisionLog:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def announce(self, session_id: uuid.UUID, rev: int, at: dt.datetime) -> None:
        """Tell every server process listening (PostgreSQL) once the transaction commits;
        on SQLite they poll instead."""
        if self._db.dialect.name == "postgresql":
            self._db.execute(_ANNOUNCE, {"payload": announcement(session_id, rev, at)})

    def append(self, session_id: uuid.UUID, change: LoggedChange) -> None:
        self._db.execute(
            _APPEND,
            {"session_id": session_id, "rev": change.rev, "at": change.at, "ops": change.ops},
        )

    def save_checkpoint(self, session_id: uuid.UUID, rev: int, state: bytes) -> None:
        self._db.execute(_SAVE_CHECKPOINT, {"session_id": session_id, "rev": rev, "state": state})

    def checkpoint(self, session_id: uuid.UUID, rev: int) -> bytes | None:
        return self._db.execute(
            _CHECKPOINT, {"session_id": session_id, "rev": rev}
        ).scalar_one_or_none()

    def changes(
        self, session_id: uuid.UUID, after_rev: int, up_to_rev: int, limit: int | None = None
    ) -> list[LoggedChange]:
        """The changes that made revs after_rev+1 … up_to_rev that are still kept, in order."""
        query = (
            sa.select(_changes.c.rev, _changes.c.at, _changes.c.ops)
            .where(
                _changes.c.session_id == session_id,
                _changes.c.rev > after_rev,
                _changes.c.rev <= up_to_rev,
            )
            .order_by(_changes.c.rev)
        )
        if limit is not None:
            query = query.limit(limit)
        return [LoggedChange(row.rev, row.at, row.ops) for row in self._db.execute(query)]

    def revisions(
        self, session_id: uuid.UUID, after_rev: int, up_to_rev: int
    ) -> list[tuple[int, dt.datetime]]:
        """(rev, at) of the kept changes after `after_rev` up to `up_to_rev`, in order."""
        rows = self._db.execute(
            sa.select(_changes.c.rev, _changes.c.at)
            .where(
                _changes.c.session_id == session_id,
                _changes.c.rev > after_rev,
                _changes.c.rev <= up_to_rev,
            )
            .order_by(_changes.c.rev)
        )
        return [(row.rev, row.at) for row in rows]

    def oldest_kept(self, session_id: uuid.UUID) -> int | None:
        """The rev of the oldest change still kept, if any."""
        return self._db.execute(
            sa.select(sa.func.min(_changes.c.rev)).where(_changes.c.session_id == session_id)
        ).scalar_one_or_none()

    def newest_checkpoint(self, session_id: uuid.UUID, at_most: int) -> tuple[int, bytes] | None:
        """The newest checkpoint of a rev no later than `at_most`, with its rev."""
        row = self._db.execute(
            sa.select(_checkpoints.c.rev, _checkpoints.c.state)
            .where(_checkpoints.c.session_id == session_id, _checkpoints.c.rev <= at_most)
            .order_by(_checkpoints.c.rev.desc())
            .limit(1)
        ).first()
        return None if row is None else (row.rev, row.state)

    def compact(self, session_id: uuid.UUID, keep_after: int) -> None:
        """Forget what only revs up to `keep_after` need: the newest checkpoint at or
        before it stays as the base the kept log starts from."""
        base = self._db.execute(
            sa.select(sa.func.max(_checkpoints.c.rev)).where(
                _checkpoints.c.session_id == session_id, _checkpoints.c.rev <= keep_after
            )
        ).scalar_one_or_none()
        if base is None:
            return
        self._db.execute(
            sa.delete(_changes).where(_changes.c.session_id == session_id, _changes.c.rev <= base)
        )
        self._db.execute(
            sa.delete(_checkpoints).where(
                _checkpoints.c.session_id == session_id, _checkpoints.c.rev < base
            )
        )
