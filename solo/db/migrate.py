"""Bring a database's schema up to date with the Alembic migrations shipped here."""

from __future__ import annotations

import contextlib
import pathlib
import sqlite3
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = pathlib.Path(__file__).with_name("migrations")
HEAD = "0009"
"""The newest migration's revision (tests/db/test_migrations.py holds it to Alembic's)."""


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config  # imported when needed: see upgrade_sqlite

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    from alembic import command  # imported when needed: see upgrade_sqlite

    command.upgrade(alembic_config(database_url), "head")


def upgrade_sqlite(database_url: str) -> None:
    """`solo serve` on SQLite migrates its file itself: unless it is at HEAD already, read
    with sqlite3 alone (Alembic's import and run cost each start half a second)."""
    if not _at_head(database_url):
        upgrade(database_url)


def _at_head(database_url: str) -> bool:
    path = make_url(database_url).database
    if not path or path == ":memory:" or not pathlib.Path(path).exists():
        return False
    uri = pathlib.Path(path).resolve().as_uri() + "?mode=ro"
    try:
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as connection:
            found = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.Error:
        return False
    return found == [(HEAD,)]
