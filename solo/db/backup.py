"""Backups of the embedded SQLite database with SQLite's online backup API.

The copy is made in one step, inside one read transaction of the source: it holds exactly
what was committed when it began, whatever is written meanwhile (in WAL mode the server's
writers do not wait for it, nor it for them). PostgreSQL has its own tools (pg_dump, PITR:
see the README)."""

from __future__ import annotations

import contextlib
import os
import pathlib
import sqlite3
import tempfile
from collections.abc import Iterator

from sqlalchemy.engine import make_url

from solo import limits


class BackupError(Exception):
    """A backup or restore that cannot be made; the message says why."""


def sqlite_path(database_url: str) -> pathlib.Path:
    """The file of the SQLite database the URL names; BackupError for anything else."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "solo backup copies the embedded SQLite database; back up PostgreSQL with "
            "pg_dump or point-in-time recovery (see the README)"
        )
    return pathlib.Path(url.database)


def back_up(source: pathlib.Path, destination: pathlib.Path) -> None:
    """Copy the live database at `source` to `destination` (written aside, then renamed:
    a reader never finds half a backup), as one self-contained file."""
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with _aside(destination) as temporary:
        with _connected(source) as live, _connected(temporary) as copy:
            live.backup(copy)
            # The copy is in WAL mode like its source; one file is what a backup should be.
            copy.execute("PRAGMA journal_mode=DELETE")
        check(temporary)


def restore(backup: pathlib.Path, destination: pathlib.Path) -> None:
    """Make `destination` hold what `backup` holds (every server process stopped first:
    their caches would not know)."""
    check(backup)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with _connected(backup) as source, _connected(destination) as target:
        source.backup(target)


def check(path: pathlib.Path) -> None:
    """BackupError unless `path` is an intact Solo database."""
    try:
        with _connected(path) as database:
            (verdict,) = database.execute("PRAGMA integrity_check").fetchone()
            tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not an SQLite database: {exc}") from None
    if verdict != "ok":
        raise BackupError(f"{path} is damaged: {verdict}")
    if not {"alembic_version", "sessions"} <= tables:
        raise BackupError(f"{path} is not a Solo database")


@contextlib.contextmanager
def _connected(path: pathlib.Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(path, timeout=limits.DATABASE_WAIT_SECONDS)
    try:
        yield connection
    finally:
        connection.close()


@contextlib.contextmanager
def _aside(destination: pathlib.Path) -> Iterator[pathlib.Path]:
    handle, name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.")
    os.close(handle)
    temporary = pathlib.Path(name)
    try:
        yield temporary
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
