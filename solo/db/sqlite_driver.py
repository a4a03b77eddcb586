"""The statements every write runs, handed to SQLite's driver as they are.

Through SQLAlchemy each statement of a 1 KiB diff costs about 20 µs of Python (an execution
context and a result built around the driver's cursor) against about 3 µs for the driver
itself, and on SQLite a write runs its statements holding the one writer lock that every
process waits for (bench/RESULTS.md). So the write path's statements (the head's read and
compare-and-swap, the logged change, and a write's savepoint) go straight to sqlite3 on
the connection SQLAlchemy manages, inside the transaction it began. Values are stored and
read exactly as SQLAlchemy's types store them on SQLite: tests/db/test_sqlite_driver.py
holds each statement to its SQLAlchemy twin. Driver errors are raised as SQLAlchemy's
wrapped ones (a lost connection marked as such), as every caller expects.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from typing import Any

import sqlalchemy as sa

from solo.db.models import aware_utc, naive_utc
from solo.domain.model import Session

GET = (
    "SELECT id, owner, rev, size, created_at, updated_at, last_seen_at, checkpoint_rev,"
    " replay_cost, kept_bytes, watched_until FROM sessions WHERE id = ? AND owner = ?"
)
ADVANCE = (
    "UPDATE sessions SET rev = ?, size = ?, updated_at = ?, checkpoint_rev = ?,"
    " replay_cost = ?, kept_bytes = ? WHERE id = ? AND owner = ? AND rev = ?"
)
APPEND = "INSERT INTO changes (session_id, rev, at, ops) VALUES (?, ?, ?, ?)"


class Driver:
    """sqlite3 under a SQLAlchemy connection whose transaction has begun."""

    def __init__(self, raw: sqlite3.Connection, dialect: sa.Dialect) -> None:
        self._raw = raw
        self._dialect = dialect

    def execute(self, statement: str, values: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            if not self._raw.in_transaction:
                # SQLite rolls a transaction back by itself on some errors (a full disk,
                # an I/O error) while SQLAlchemy still counts it open: a statement now
                # would run and commit alone.
                raise sqlite3.OperationalError("SQLite ended the transaction")
            return self._raw.execute(statement, values)
        except sqlite3.Error as exc:
            # The pysqlite dialect reads only the error's type and message.
            lost = self._dialect.is_disconnect(exc, None, None)  # type: ignore[arg-type]
            raise sa.exc.DBAPIError.instance(
                statement, values, exc, sqlite3.Error, connection_invalidated=lost
            ) from exc


def driver(connection: sa.Connection) -> Driver | None:
    """sqlite3 under `connection` (pysqlite), where its transaction has begun (so a
    statement sent to it belongs to that transaction); None anywhere else."""
    dialect = connection.dialect
    if dialect.driver != "pysqlite" or not connection.in_transaction():
        return None
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return Driver(raw, dialect)


def session_id(value: uuid.UUID) -> str:
    """A uuid as `sa.Uuid` stores it on SQLite: 32 hex digits."""
    return value.hex


def stored_time(value: dt.datetime) -> str:
    """An aware time as `UtcDateTime` stores it on SQLite: naive UTC, in SQLAlchemy's
    DATETIME text (always six digits of microseconds, so the text sorts as the time)."""
    return naive_utc(value).isoformat(" ", "microseconds")


def read_time(text: str | None) -> dt.datetime | None:
    return None if text is None else aware_utc(dt.datetime.fromisoformat(text))


def session(row: tuple[Any, ...]) -> Session:
    """A row of GET as the session head it stores."""
    (id_, owner, rev, size, created, updated, seen, checkpoint_rev, cost, kept, watched) = row
    created_at, updated_at = read_time(created), read_time(updated)
    assert created_at is not None and updated_at is not None
    return Session(
        id=uuid.UUID(id_),
        owner=owner,
        rev=rev,
        size=size,
        created_at=created_at,
        updated_at=updated_at,
        last_seen_at=read_time(seen),
        checkpoint_rev=checkpoint_rev,
        replay_cost=cost,
        kept_bytes=kept,
        watched_until=read_time(watched),
    )
