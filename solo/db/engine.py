"""Engines for the supported databases, tuned for many short transactions."""

from __future__ import annotations

import pathlib
import sqlite3

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from solo import limits


def make_engine(
    database_url: str,
    pool_size: int = 5,
    *,
    wait_seconds: int = limits.DATABASE_WAIT_SECONDS,
    bounded: bool = True,
) -> sa.Engine:
    """An engine whose pool has one connection for each thread that may use it, and whose
    waits (for a connection, a lock, a busy database) end after `wait_seconds`; `bounded`,
    no statement waits on PostgreSQL past Solo's limits (migrations may take longer)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, pool_size, wait_seconds)
    psycopg = url.get_driver_name() == "psycopg"
    engine = sa.create_engine(
        url,
        # Other drivers: pinged before every use (solo.db.liveness knows psycopg's only).
        pool_pre_ping=not psycopg,
        # The connection used last is handed out first, so the busy ones stay busy and
        # the rest idle out, rather than every one idling past the ping's limit in turn.
        pool_use_lifo=True,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=wait_seconds,
        connect_args=postgresql_timeouts(wait_seconds) if bounded else {},
    )
    if psycopg:
        from solo.db import liveness  # imports psycopg: only where PostgreSQL is configured

        liveness.check_at_checkout(engine, idle_ping_seconds=limits.DATABASE_IDLE_PING_SECONDS)
    return engine


def postgresql_timeouts(wait_seconds: int) -> dict[str, object]:
    """psycopg connection arguments: nothing waits on PostgreSQL past Solo's limits."""
    lock_ms = wait_seconds * 1000
    statement_ms = limits.DATABASE_STATEMENT_SECONDS * 1000
    return {
        "connect_timeout": wait_seconds,
        "options": f"-c lock_timeout={lock_ms} -c statement_timeout={statement_ms}",
    }


def _sqlite_engine(url: sa.URL, pool_size: int, wait_seconds: int) -> sa.Engine:
    if url.database and url.database != ":memory:":
        pathlib.Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=wait_seconds,
        connect_args={"check_same_thread": False, "timeout": wait_seconds},
    )

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        # Solo issues BEGIN itself (below), so that a write can say IMMEDIATE.
        dbapi_connection.isolation_level = None
        # WAL lets readers run beside the single writer; the rev CAS stays atomic
        # because SQLite serialises writers.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit syncs the write-ahead log before it returns, so an acknowledged
        # write survives power loss (NORMAL syncs only at checkpoints). Group commit
        # (solo.db.group_commit) shares one sync among the writes that come together.
        dbapi_connection.execute("PRAGMA synchronous=FULL")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @sa.event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
