"""PostgreSQL's one-statement write, handed to psycopg as SQLAlchemy compiled it.

Most writes on PostgreSQL are one autocommitted statement (`advance_and_log` in
solo.db.sessions). Through SQLAlchemy it costs a Connection around the pooled one, its
autocommit option set and reset, an execution context and a result with its row
processors: with two processes on two cores that Python is a sizeable share of a write's
CPU (bench/RESULTS.md). So the statement SQLAlchemy compiles for this dialect runs on the
psycopg connection of a pooled checkout (the pool's liveness check included), in
autocommit, as a named tuple; its caller types what it reads. Driver errors are raised as
SQLAlchemy's wrapped ones, and a connection found lost is invalidated, as SQLAlchemy's
Connection would: every caller sees what it saw before. tests/db/test_postgres_driver.py
holds the statement's answers to SQLAlchemy's.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from psycopg import Error
from psycopg.rows import namedtuple_row


class Autocommitted:
    """A pooled connection's psycopg connection, each statement its own transaction."""

    def __init__(self, pooled: sa.PoolProxiedConnection, dialect: sa.Dialect) -> None:
        self._pooled = pooled
        self._dialect = dialect

    def one(self, statement: sa.TextClause, values: dict[str, Any]) -> Any:
        """The statement's one row, a named tuple of what psycopg read."""
        sql = _compiled(statement, self._dialect)
        connection = cast("psycopg.Connection[Any]", self._pooled.driver_connection)
        try:
            connection.autocommit = True
            with connection.cursor(row_factory=namedtuple_row) as cursor:
                row = cursor.execute(sql, values).fetchone()
        except Error as exc:
            lost = self._dialect.is_disconnect(exc, connection, None)  # type: ignore[arg-type]
            if lost:
                self._pooled.invalidate(exc)
            raise sa.exc.DBAPIError.instance(
                sql, values, exc, Error, connection_invalidated=lost
            ) from exc
        finally:
            self._transactions_again(connection)
        if row is None:
            raise sa.exc.NoResultFound("the statement returned no row")
        return row

    def _transactions_again(self, connection: psycopg.Connection[Any]) -> None:
        """The pool hands this connection to transactions next: a connection that cannot
        leave autocommit is not handed to anyone."""
        if not self._pooled.is_valid:
            return
        try:
            connection.autocommit = False
        except Error as exc:
            self._pooled.invalidate(exc)


@contextlib.contextmanager
def autocommitted(engine: sa.Engine) -> Iterator[Autocommitted]:
    pooled = engine.raw_connection()
    try:
        yield Autocommitted(pooled, engine.dialect)
    finally:
        pooled.close()


@functools.cache
def _compiled(statement: sa.TextClause, dialect: sa.Dialect) -> str:
    return statement.compile(dialect=dialect).string
