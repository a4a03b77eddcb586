"""The database schema, as SQLAlchemy declarative models."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """Stores naive UTC and returns aware UTC, identically on SQLite and PostgreSQL."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: sa.Dialect
    ) -> dt.datetime | None:
        return None if value is None else naive_utc(value)

    def process_result_value(
        self, value: dt.datetime | None, dialect: sa.Dialect
    ) -> dt.datetime | None:
        return None if value is None else aware_utc(value)


def naive_utc(value: dt.datetime) -> dt.datetime:
    """An aware time as Solo stores it: naive UTC."""
    if value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def aware_utc(stored: dt.datetime) -> dt.datetime:
    """A stored time as Solo reads it: aware UTC."""
    return stored.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> sa.Table:
    """A model's table, typed as the Table it is (SQLAlchemy types it as any FromClause)."""
    table = model.__table__
    assert isinstance(table, sa.Table)
    return table


class SessionRow(Base):
    """A session's head: its rev and where its state is (a checkpoint, then the log)."""

    __tablename__ = "sessions"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True)
    owner: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    rev: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    checkpoint_rev: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    replay_cost: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    """Work units of rebuilding the head from its checkpoint: the logged ops' bytes and
    the work the patches did (solo.domain.patch)."""
    kept_bytes: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    """Bytes of the session's kept log: its changes' ops and its checkpoints' states."""
    watched_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    """Until when some server process streams this session's revisions to a client."""

    __table_args__ = (sa.Index("ix_sessions_owner_created", "owner", "created_at", "id"),)


class CheckpointRow(Base):
    """A session's whole state at one rev, as canonical JSON."""

    __tablename__ = "checkpoints"

    session_id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    rev: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    state: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)


class ChangeRow(Base):
    """The change that made a rev: its ops as canonical JSON, or NULL for a whole new
    state, which is then the checkpoint of that rev."""

    __tablename__ = "changes"

    session_id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    rev: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    ops: Mapped[bytes | None] = mapped_column(sa.LargeBinary, nullable=True)


class TelemetryEventRow(Base):
    """One beacon: kept for telemetry only, never read back into a session."""

    __tablename__ = "telemetry_events"

    id: Mapped[int] = mapped_column(
        sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    session_id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    )
    owner: Mapped[str] = mapped_column(sa.String(255), nullable=False)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    payload: Mapped[object] = mapped_column(sa.JSON, nullable=False)

    __table_args__ = (sa.Index("ix_telemetry_session", "session_id", "id"),)


class SnapshotRow(Base):
    """A snapshot whose object is known to exist in the blob store, or, while `claim` is
    set, the claim of a request that is writing it (never listed or served)."""

    __tablename__ = "snapshots"

    session_id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    rev: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(1024), nullable=False)
    size: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    claim: Mapped[str | None] = mapped_column(sa.String(32), nullable=True)
    """The writing request's token until the object is written; NULL once it is."""
    name: Mapped[str | None] = mapped_column(sa.String(400), nullable=True)
    """A name for people (SNAPSHOT_NAME_MAX_LENGTH characters, up to 4 bytes each)."""
    pinned: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, server_default=sa.false())
    """Never collected by the retention policy."""


class PendingDeletionRow(Base):
    """Objects under `prefix` must go: a deleted session's snapshots, removed by the
    sweeper once `not_before` has passed (and again until the store answers)."""

    __tablename__ = "pending_deletions"

    prefix: Mapped[str] = mapped_column(sa.String(1024), primary_key=True)
    not_before: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(sa.Integer, nullable=False)

    __table_args__ = (sa.Index("ix_pending_deletions_not_before", "not_before"),)


class IdempotencyKeyRow(Base):
    """The first request made with a user's Idempotency-Key, and its answer once done.

    A write's key is recorded in the write's own transaction, with the rev it made, and
    goes with that rev's change (compaction, the session's deletion); a delete's and a
    snapshot's key expire instead."""

    __tablename__ = "idempotency_keys"

    owner: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(1024), nullable=False)
    status_code: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    """None while the first request is still running (snapshots)."""
    body: Mapped[object | None] = mapped_column(sa.JSON, nullable=True)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, nullable=True)
    """None: the key lives as long as the change of `rev` is kept."""
    session_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=True
    )
    rev: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    """The rev the write made (the key's answer's `ETag`)."""

    __table_args__ = (
        sa.Index("ix_idempotency_expires", "expires_at"),
        sa.Index("ix_idempotency_session_rev", "session_id", "rev"),
    )


BYTES_NOT_NEGATIVE = "quota_usage_bytes_not_negative"
"""The CHECK that keeps a user's bytes from going below zero; the one-statement write
(solo.db.sessions) trips it on purpose to refuse a write past the quota."""


class QuotaUsageRow(Base):
    """What one user stores, kept in the transactions that change it: the quotas are
    checked against this row, which serialises one user's racing writes (and only
    theirs)."""

    __tablename__ = "quota_usage"

    owner: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    sessions: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    bytes: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    """Bytes of the owner's states (canonical JSON) and snapshot documents (claims too)."""

    __table_args__ = (sa.CheckConstraint("bytes >= 0", name=BYTES_NOT_NEGATIVE),)


class RetentionDueRow(Base):
    """A session whose snapshots the retention policy must look at from `due_at` on (a new
    snapshot, or an hour that ended while some were kept for their hour or day)."""

    __tablename__ = "retention_due"

    session_id: Mapped[uuid.UUID] = mapped_column(
        sa.Uuid, sa.ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    due_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)

    __table_args__ = (sa.Index("ix_retention_due_due_at", "due_at"),)
