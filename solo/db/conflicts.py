"""INSERT … ON CONFLICT DO NOTHING on each supported database."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def insert_unless_present(db: sa.Connection, table, values: dict) -> bool:
    """Insert the row; False (and nothing written) when its key is already taken."""
    dialect = db.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(**values).on_conflict_do_nothing()
    # rowcount is not reliable for this statement on every driver; RETURNING is.
    inserted = db.execute(statement.returning(sa.literal(1))).first()
    return inserted is not None
