"""A pooled PostgreSQL connection checked before use without a round trip, when it can be.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` at every checkout: one more round trip for
every request, as many as a one-statement write itself (bench/RESULTS.md). A server that
ends a connection (a restart, `pg_terminate_backend`, a crash) sends its error and closes
the socket, so an idle connection's socket that has something to read is in doubt; one
that has nothing is alive as far as can be known without asking. A connection in doubt,
or idle longer than DATABASE_IDLE_PING_SECONDS (a server that vanished with the network
sends nothing), is pinged; one that fails the ping is replaced by the pool
(DisconnectionError at checkout). A ping to a vanished server waits as long as any
statement would: the ping finds the loss no sooner than `pool_pre_ping` would.
"""

from __future__ import annotations

import select
import time
from typing import Any

import sqlalchemy as sa
from psycopg import pq

_TAKEN_AT = "solo_taken_at"


def check_at_checkout(engine: sa.Engine, *, idle_ping_seconds: float) -> None:
    """Check each connection `engine` hands out (psycopg): see the module's docstring. The
    idle time is counted from the connection's previous checkout (one event, not two: a
    connection held long is pinged a little early, never late)."""

    @sa.event.listens_for(engine, "checkout")
    def _checked(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        now = time.monotonic()
        taken_at = record.info.get(_TAKEN_AT)
        record.info[_TAKEN_AT] = now
        if taken_at is None:
            return  # just connected
        try:
            if now - taken_at <= idle_ping_seconds and _quiet(dbapi_connection.pgconn):
                return
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise sa.exc.DisconnectionError("the pooled connection is gone") from exc


def _quiet(pgconn: pq.abc.PGconn) -> bool:
    """Whether an idle connection is open with nothing waiting to be read."""
    if pgconn.status != pq.ConnStatus.OK:
        return False
    poller = select.poll()
    poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
    return not poller.poll(0)
