"""INSERT … ON CONFLICT DO NOTHING on each supported database."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def insert_unless_present(db: sa.Connection, table: sa.Table, values: dict[str, Any]) -> bool:
    """Insert the row; False (and nothing written) when its key is already taken."""
    if db.dialect.name == "postgresql":
        statement: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        statement = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    # rowcount is not reliable for this statement on every driver; RETURNING is.
    inserted = db.execute(statement.returning(sa.literal(1))).first()
    return inserted is not None
