"""Engines for the supported databases, tuned for many short transactions."""

from __future__ import annotations

import json
import pathlib

import sqlalchemy as sa
from sqlalchemy.engine import make_url


def _compact_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def make_engine(database_url: str) -> sa.Engine:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return sa.create_engine(
        url,
        json_serializer=_compact_json,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
    )


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    if url.database and url.database != ":memory:":
        pathlib.Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        json_serializer=_compact_json,
        connect_args={"check_same_thread": False, "timeout": 30},
    )

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record):
        # WAL lets readers run beside the single writer; the rev CAS stays atomic
        # because SQLite serialises writers.
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine
