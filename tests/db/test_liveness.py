"""A pooled PostgreSQL connection is checked at checkout without a round trip unless it is
in doubt: one the server ended is replaced, one idle too long is pinged, and one used a
moment ago is handed out as it is."""

import sys
import types

import sqlalchemy as sa

from solo.db import liveness
from solo.db.engine import make_engine

MARKER = "SELECT 'позначка' AS solo_marker"


def _marked_backend(postgres_engine: sa.Engine) -> int:
    """The pool's one connection, whose last statement is MARKER (in autocommit, so that
    nothing follows it when the connection goes back)."""
    with postgres_engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        pid = autocommit.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        autocommit.execute(sa.text(MARKER))
        return pid


def _last_statement(postgres_observer: sa.Connection, pid: int) -> str:
    return postgres_observer.execute(
        sa.text("SELECT query FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
    ).scalar_one()


def test_a_connection_the_server_ended_is_replaced_before_it_is_used(
    postgres_engine, postgres_observer
):
    ended = _marked_backend(postgres_engine)
    postgres_observer.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": ended})

    with postgres_engine.connect() as connection:
        answer = connection.execute(sa.text("SELECT 'жива'")).scalar_one()
        now = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()

    assert (answer, now != ended) == ("жива", True)


def test_a_connection_used_a_moment_ago_is_handed_out_without_a_round_trip(
    postgres_engine, postgres_observer
):
    pid = _marked_backend(postgres_engine)

    with postgres_engine.connect():
        pass

    assert _last_statement(postgres_observer, pid) == MARKER


def test_a_connection_idle_past_the_limit_is_pinged(postgres_database_url, postgres_observer):
    postgres_engine = sa.create_engine(postgres_database_url, pool_size=1, max_overflow=0)
    liveness.check_at_checkout(postgres_engine, idle_ping_seconds=0)
    try:
        pid = _marked_backend(postgres_engine)
        with postgres_engine.connect() as connection:
            last = _last_statement(postgres_observer, pid)
            same = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one() == pid
        assert (same, last) == (True, ";")  # SQLAlchemy's ping on psycopg
    finally:
        postgres_engine.dispose()


def test_other_drivers_are_pinged_before_every_use(monkeypatch):
    """solo.db.liveness reads psycopg's connection; any other driver keeps SQLAlchemy's
    ping. Nothing connects, so a stand-in for pg8000 (not installed) is enough."""
    stand_in = types.SimpleNamespace(__version__="1.31.2", paramstyle="format")
    monkeypatch.setitem(sys.modules, "pg8000", stand_in)
    other = make_engine("postgresql+pg8000://solo@127.0.0.1/solo")
    psycopg = make_engine("postgresql+psycopg://solo@127.0.0.1/solo")
    try:
        assert (other.pool._pre_ping, psycopg.pool._pre_ping) == (True, False)
    finally:
        other.dispose()
        psycopg.dispose()
