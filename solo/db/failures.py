"""Which database failures mean "the database does not answer": 503, never 500."""

from __future__ import annotations

import logging

import sqlalchemy.exc

from solo.domain.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

_UNAVAILABLE = (
    sqlalchemy.exc.TimeoutError,
    # Connection failures, PostgreSQL's lock_timeout (LockNotAvailable) and
    # statement_timeout (QueryCanceled), SQLite's "database is locked": psycopg and sqlite3
    # raise them all as OperationalError, which SQLAlchemy wraps as its own.
    sqlalchemy.exc.OperationalError,
)


def unavailable(exc: BaseException) -> DatabaseUnavailable | None:
    """The 503 that a database failure answers, or None when it is not one."""
    disconnected = isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated
    if not isinstance(exc, _UNAVAILABLE) and not disconnected:
        return None
    reason = getattr(exc, "orig", None) or exc
    return DatabaseUnavailable(f"{type(reason).__name__}: {reason}")
