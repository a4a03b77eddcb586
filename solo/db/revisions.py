"""SQL for the revision log: the change that made each rev, and checkpoints of whole states."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import sqlalchemy as sa

from solo.db.models import ChangeRow, CheckpointRow

_changes = ChangeRow.__table__
_checkpoints = CheckpointRow.__table__
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


class RevisionLog:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

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
