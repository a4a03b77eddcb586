"""SQL for the revision log: the change that made each rev, and checkpoints of whole states."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from solo import limits
from solo.db import sqlite_driver
from solo.db.models import ChangeRow, CheckpointRow, table_of
from solo.domain.model import ChangeSize, Compacted, KeptLog, LoggedChange

_changes = table_of(ChangeRow)
_checkpoints = table_of(CheckpointRow)
_APPEND = sa.insert(_changes)
_SAVE_CHECKPOINT = sa.insert(_checkpoints)
_SIZES = (
    sa.select(
        _changes.c.rev,
        _changes.c.at,
        sa.func.coalesce(
            sa.func.length(_changes.c.ops), sa.func.length(_checkpoints.c.state)
        ).label("size"),
        _changes.c.ops.is_(None).label("whole"),
    )
    .select_from(
        _changes.outerjoin(
            _checkpoints,
            sa.and_(
                _changes.c.ops.is_(None),
                _checkpoints.c.session_id == _changes.c.session_id,
                _checkpoints.c.rev == _changes.c.rev,
            ),
        )
    )
    .where(
        _changes.c.session_id == sa.bindparam("session_id"),
        _changes.c.rev > sa.bindparam("after"),
        _changes.c.rev <= sa.bindparam("up_to"),
    )
    .order_by(_changes.c.rev)
    .limit(sa.bindparam("n"))
)
_REVISIONS = (
    sa.select(
        _changes.c.rev,
        _changes.c.at,
        sa.case(
            (sa.func.length(_changes.c.ops) <= limits.EVENT_OPS_MAX_BYTES, _changes.c.ops),
            else_=None,
        ).label("ops"),
    )
    .where(
        _changes.c.session_id == sa.bindparam("session_id"),
        _changes.c.rev > sa.bindparam("after"),
        _changes.c.rev <= sa.bindparam("up_to"),
    )
    .order_by(_changes.c.rev)
)
_CHANGES = (
    # Built once, like every statement here: a catch-up (another process wrote) runs it on
    # the write path, where building and compiling it each time cost more than running it.
    sa.select(_changes.c.rev, _changes.c.at, _changes.c.ops)
    .where(
        _changes.c.session_id == sa.bindparam("session_id"),
        _changes.c.rev > sa.bindparam("after"),
        _changes.c.rev <= sa.bindparam("up_to"),
    )
    .order_by(_changes.c.rev)
)
_FIRST_CHANGES = _CHANGES.limit(sa.bindparam("n"))
_OLDEST_KEPT = sa.select(sa.func.min(_changes.c.rev)).where(
    _changes.c.session_id == sa.bindparam("session_id")
)
_NEWEST_CHECKPOINT = (
    sa.select(_checkpoints.c.rev, _checkpoints.c.state)
    .where(
        _checkpoints.c.session_id == sa.bindparam("session_id"),
        _checkpoints.c.rev <= sa.bindparam("at_most"),
    )
    .order_by(_checkpoints.c.rev.desc())
    .limit(1)
)
_NEWEST_CHECKPOINT_REV = sa.select(sa.func.max(_checkpoints.c.rev)).where(
    _checkpoints.c.session_id == sa.bindparam("session_id"),
    _checkpoints.c.rev <= sa.bindparam("at_most"),
)
_OPS_BETWEEN = sa.select(_changes.c.rev, _changes.c.ops).where(
    _changes.c.session_id == sa.bindparam("session_id"),
    _changes.c.rev >= sa.bindparam("first"),
    _changes.c.rev <= sa.bindparam("last"),
)
_CHECKPOINT_SIZES = (
    sa.select(_checkpoints.c.rev, sa.func.length(_checkpoints.c.state).label("size"))
    .where(_checkpoints.c.session_id == sa.bindparam("session_id"))
    .order_by(_checkpoints.c.rev)
)
_CHANGE_SIZES = (
    sa.select(_changes.c.rev, sa.func.coalesce(sa.func.length(_changes.c.ops), 0).label("size"))
    .where(_changes.c.session_id == sa.bindparam("session_id"))
    .order_by(_changes.c.rev)
)
_FREED = sa.select(
    sa.func.coalesce(
        sa.select(sa.func.sum(sa.func.length(_changes.c.ops)))
        .where(
            _changes.c.session_id == sa.bindparam("session_id"),
            _changes.c.rev <= sa.bindparam("cut"),
        )
        .scalar_subquery(),
        0,
    )
    + sa.func.coalesce(
        sa.select(sa.func.sum(sa.func.length(_checkpoints.c.state)))
        .where(
            _checkpoints.c.session_id == sa.bindparam("session_id"),
            _checkpoints.c.rev < sa.bindparam("cut"),
        )
        .scalar_subquery(),
        0,
    )
)
_FORGET_CHANGES = sa.delete(_changes).where(
    _changes.c.session_id == sa.bindparam("session_id"), _changes.c.rev <= sa.bindparam("cut")
)
_FORGET_CHECKPOINTS = sa.delete(_checkpoints).where(
    _checkpoints.c.session_id == sa.bindparam("session_id"),
    _checkpoints.c.rev < sa.bindparam("cut"),
)
_CHECKPOINT = sa.select(_checkpoints.c.state).where(
    _checkpoints.c.session_id == sa.bindparam("session_id"),
    _checkpoints.c.rev == sa.bindparam("rev"),
)


REVISIONS_CHANNEL = "solo_revisions"
"""The PostgreSQL NOTIFY channel on which writers announce revisions of watched sessions."""

_ANNOUNCE = sa.select(sa.func.pg_notify(REVISIONS_CHANNEL, sa.bindparam("payload")))


DELETED_REV = -1
"""The rev an announcement carries for a deleted session."""


def announcement(session_id: uuid.UUID, rev: int, at: dt.datetime, ops: bytes | None = None) -> str:
    """`<session> <rev> <at>`, then the change's ops when they are small enough to travel
    with its event (EVENT_OPS_MAX_BYTES: a NOTIFY payload holds 8000 bytes)."""
    head = f"{session_id} {rev} {at.isoformat()}"
    small = ops is not None and len(ops) <= limits.EVENT_OPS_MAX_BYTES
    return f"{head} {ops.decode()}" if small and ops is not None else head


def announced(payload: str) -> tuple[uuid.UUID, int, dt.datetime, bytes | None]:
    session_id, rev, at, *ops = payload.split(" ", 3)
    return (
        uuid.UUID(session_id),
        int(rev),
        dt.datetime.fromisoformat(at),
        ops[0].encode() if ops else None,
    )


class RevisionLog:
    def __init__(self, connection: sa.Connection) -> None:
        self._db = connection

    def announce(
        self, session_id: uuid.UUID, rev: int, at: dt.datetime, ops: bytes | None = None
    ) -> None:
        """Tell every server process listening (PostgreSQL) once the transaction commits;
        on SQLite they poll instead."""
        if self._db.dialect.name == "postgresql":
            self._db.execute(_ANNOUNCE, {"payload": announcement(session_id, rev, at, ops)})

    def announce_deletion(self, session_id: uuid.UUID) -> None:
        """Announce that the session is gone (rev -1): its streams end everywhere."""
        self.announce(session_id, DELETED_REV, dt.datetime.min.replace(tzinfo=dt.UTC))

    def append(self, session_id: uuid.UUID, change: LoggedChange) -> None:
        raw = sqlite_driver.driver(self._db)
        if raw is not None:
            at = sqlite_driver.stored_time(change.at)
            values = (sqlite_driver.session_id(session_id), change.rev, at, change.ops)
            raw.execute(sqlite_driver.APPEND, values)
            return
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
        values = {"session_id": session_id, "after": after_rev, "up_to": up_to_rev, "n": limit}
        rows = self._db.execute(_CHANGES if limit is None else _FIRST_CHANGES, values)
        return [LoggedChange(row.rev, row.at, row.ops) for row in rows]

    def sizes(
        self, session_id: uuid.UUID, after_rev: int, up_to_rev: int, limit: int
    ) -> list[ChangeSize]:
        """The kept changes after `after_rev`, in order, with the size of their content
        measured by the database: nothing of the content is loaded."""
        rows = self._db.execute(
            _SIZES, {"session_id": session_id, "after": after_rev, "up_to": up_to_rev, "n": limit}
        )
        return [ChangeSize(row.rev, row.at, row.size, row.whole) for row in rows]

    def ops_between(
        self, session_id: uuid.UUID, first_rev: int, last_rev: int
    ) -> dict[int, bytes | None]:
        """The ops of the kept changes first_rev … last_rev (None for whole-state ones)."""
        rows = self._db.execute(
            _OPS_BETWEEN, {"session_id": session_id, "first": first_rev, "last": last_rev}
        )
        return {row.rev: row.ops for row in rows}

    def revisions(
        self, session_id: uuid.UUID, after_rev: int, up_to_rev: int
    ) -> list[tuple[int, dt.datetime, bytes | None]]:
        """(rev, at, ops) of the kept changes after `after_rev` up to `up_to_rev`, in order;
        the ops only when they are small enough to travel with an event."""
        rows = self._db.execute(
            _REVISIONS, {"session_id": session_id, "after": after_rev, "up_to": up_to_rev}
        )
        return [(row.rev, row.at, row.ops) for row in rows]

    def oldest_kept(self, session_id: uuid.UUID) -> int | None:
        """The rev of the oldest change still kept, if any."""
        return self._db.execute(_OLDEST_KEPT, {"session_id": session_id}).scalar_one_or_none()

    def newest_checkpoint(self, session_id: uuid.UUID, at_most: int) -> tuple[int, bytes] | None:
        """The newest checkpoint of a rev no later than `at_most`, with its rev."""
        row = self._db.execute(
            _NEWEST_CHECKPOINT, {"session_id": session_id, "at_most": at_most}
        ).first()
        return None if row is None else (row.rev, row.state)

    def compact(
        self, session_id: uuid.UUID, *, head_rev: int, keep: KeptLog, kept_bytes: int
    ) -> Compacted:
        """Forget what the kept log no longer needs.

        The newest `keep.changes` changes stay, unless with their checkpoints they hold
        more than `keep.bytes`: then fewer do. The log is cut at a checkpoint, which stays
        as the base the kept log starts from; the newest one (of `head_rev`, just written)
        is always a possible cut, so the bound holds after every write.
        """
        count_cut = self._newest_checkpoint_rev(session_id, at_most=head_rev - keep.changes)
        cut = count_cut
        if kept_bytes > keep.bytes:
            bytes_cut = self._bytes_cut(session_id, keep.bytes)
            cut = bytes_cut if cut is None else max(cut, bytes_cut)
        if cut is None:
            return Compacted(freed=0, cut=None)
        where = {"session_id": session_id, "cut": cut}
        freed: int = self._db.execute(_FREED, where).scalar_one()
        self._db.execute(_FORGET_CHANGES, where)
        self._db.execute(_FORGET_CHECKPOINTS, where)
        return Compacted(freed=freed, cut=cut)

    def _newest_checkpoint_rev(self, session_id: uuid.UUID, at_most: int) -> int | None:
        return self._db.execute(
            _NEWEST_CHECKPOINT_REV, {"session_id": session_id, "at_most": at_most}
        ).scalar_one_or_none()

    def _bytes_cut(self, session_id: uuid.UUID, budget: int) -> int:
        """The oldest checkpoint from which the kept log fits in `budget` bytes."""
        checkpoints = self._db.execute(_CHECKPOINT_SIZES, {"session_id": session_id}).all()
        changes = self._db.execute(_CHANGE_SIZES, {"session_id": session_id}).all()
        # Walking from the newest: what is kept if the log is cut at each checkpoint.
        kept, pending = 0, list(changes)
        cut = checkpoints[-1].rev
        for checkpoint in reversed(checkpoints):
            while pending and pending[-1].rev > checkpoint.rev:
                kept += pending.pop().size
            kept += checkpoint.size
            if kept > budget:
                break
            cut = checkpoint.rev
        return int(cut)
