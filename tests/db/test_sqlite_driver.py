"""The write path's statements sent to SQLite's driver store and read exactly what their
SQLAlchemy twins do: each is held to its twin on a migrated database, byte for byte."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from solo.db import revisions, sessions, sqlite_driver
from solo.db.engine import make_engine
from solo.db.migrate import upgrade_sqlite
from solo.domain.model import LoggedChange, Session

ZONES = st.sampled_from([dt.UTC, *(dt.timezone(dt.timedelta(hours=h)) for h in (-11, 2, 14))])
TIMES = st.datetimes(
    min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31), timezones=ZONES
)
SESSIONS = st.builds(
    Session,
    id=st.uuids(),
    owner=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
    rev=st.integers(0, 2**31 - 2),
    size=st.integers(0, 2**31 - 1),
    created_at=TIMES,
    updated_at=TIMES,
    last_seen_at=st.none() | TIMES,
    checkpoint_rev=st.integers(0, 2**31 - 1),
    replay_cost=st.integers(0, 2**31 - 1),
    kept_bytes=st.integers(0, 2**62),
    watched_until=st.none() | TIMES,
)
CHANGES = st.builds(
    LoggedChange, rev=st.integers(1, 2**31 - 1), at=TIMES, ops=st.none() | st.binary()
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('driver')}/solo.db"
    upgrade_sqlite(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def stored(connection: sa.Connection, table: str) -> list[tuple]:
    """The table's rows as SQLite holds them (text, integers, blobs), with their types."""
    columns = [row[1] for row in connection.exec_driver_sql(f"PRAGMA table_info({table})")]
    listed = ", ".join(f"{c}, typeof({c})" for c in columns)
    return list(connection.exec_driver_sql(f"SELECT {listed} FROM {table} ORDER BY 1, 2"))


def by_sqlalchemy(connection: sa.Connection, head: Session) -> Session:
    row = connection.execute(
        sessions._GET, {"session_id": head.id, "session_owner": head.owner}
    ).first()
    assert row is not None
    return sessions._session(row)


@settings(max_examples=80, deadline=None)
@given(head=SESSIONS, later=SESSIONS)
def test_a_head_is_read_and_swapped_as_sqlalchemy_does(engine, head, later):
    moved = dataclasses.replace(later, id=head.id, owner=head.owner, rev=head.rev + 1)
    rows = []
    for driven in (True, False):
        with engine.connect() as connection, connection.begin() as transaction:
            assert sqlite_driver.driver(connection) is not None
            connection.execute(sessions._INSERT, dataclasses.asdict(head))
            if driven:
                repository = sessions.SessionRepository(connection)
                assert repository.get(head.owner, head.id) == by_sqlalchemy(connection, head)
                stale = dataclasses.replace(head, rev=head.rev + 1)
                assert not repository.advance(stale, moved)
                assert repository.advance(head, moved)
                assert repository.get(head.owner, head.id) == by_sqlalchemy(connection, head)
                assert repository.get(head.owner + "ʼ", head.id) is None
            else:
                connection.execute(sessions._ADVANCE, sessions._swap(head, moved))
            rows.append(stored(connection, "sessions"))
            transaction.rollback()
    assert rows[0] == rows[1]


@settings(max_examples=80, deadline=None)
@given(head=SESSIONS, change=CHANGES)
def test_a_change_is_logged_as_sqlalchemy_logs_it(engine, head, change):
    rows = []
    for driven in (True, False):
        with engine.connect() as connection, connection.begin() as transaction:
            connection.execute(sessions._INSERT, dataclasses.asdict(head))
            if driven:
                revisions.RevisionLog(connection).append(head.id, change)
            else:
                values = {"session_id": head.id, "rev": change.rev, "at": change.at}
                connection.execute(revisions._APPEND, {**values, "ops": change.ops})
            rows.append(stored(connection, "changes"))
            logged = revisions.RevisionLog(connection).changes(head.id, 0, change.rev)
            assert logged == [dataclasses.replace(change, at=change.at.astimezone(dt.UTC))]
            transaction.rollback()
    assert rows[0] == rows[1]


def test_outside_a_transaction_the_statements_go_through_sqlalchemy(engine):
    with engine.connect() as connection:
        assert sqlite_driver.driver(connection) is None


def test_a_driver_error_is_raised_as_sqlalchemys(engine):
    with engine.connect() as connection, connection.begin():
        raw = sqlite_driver.driver(connection)
        assert raw is not None
        with pytest.raises(sa.exc.OperationalError) as raised:
            raw.execute("SELECT * FROM нема", ())
        assert isinstance(raised.value.orig, sqlite3.OperationalError)
        assert not raised.value.connection_invalidated
        with pytest.raises(sa.exc.IntegrityError):
            raw.execute(sqlite_driver.APPEND, ("0" * 32, 1, "2026-11-30", None))


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        sqlite_driver.stored_time(dt.datetime(2026, 11, 30, 12, 0))


def test_a_transaction_sqlite_ended_by_itself_takes_no_more_statements(engine):
    """SQLite rolls back by itself on a full disk or an I/O error while SQLAlchemy still
    counts the transaction open: a statement then would run, and commit, alone."""
    with engine.connect() as connection, connection.begin():
        raw = sqlite_driver.driver(connection)
        assert raw is not None
        connection.connection.driver_connection.execute("ROLLBACK")  # as SQLite would
        with pytest.raises(sa.exc.OperationalError, match="SQLite ended the transaction"):
            raw.execute(sqlite_driver.APPEND, ("0" * 32, 1, "2026-11-30 12:00:00.000000", None))


def test_a_closed_connection_is_a_lost_one(engine):
    closed = sqlite3.connect(":memory:")
    closed.execute("BEGIN")
    closed.close()
    with pytest.raises(sa.exc.DBAPIError) as raised:
        sqlite_driver.Driver(closed, engine.dialect).execute("SELECT 1", ())
    assert raised.value.connection_invalidated
