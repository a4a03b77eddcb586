"""Bring a database's schema up to date with the Alembic migrations shipped here."""

from __future__ import annotations

import pathlib

from alembic import command
from alembic.config import Config

MIGRATIONS = pathlib.Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")
