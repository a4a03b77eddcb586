"""INSERT … ON CONFLICT DO NOTHING on each supported database."""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def insert_unless_present(db: sa.Connection, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert the row; False (and nothing written) when its key is already taken."""
    inserted = db.execute(_statement(db.dialect.name, table), values).first()
    return inserted is not None


@functools.cache
def _statement(dialect: str, table: sa.Table) -> Any:
    """Built once per table: the values come as parameters, so SQLAlchemy compiles it
    once too (a statement built with `.values(...)` per call costs more than the insert)."""
    insert: Any = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    # rowcount is not reliable for this statement on every driver; RETURNING is.
    return insert.on_conflict_do_nothing().returning(sa.literal(1))
