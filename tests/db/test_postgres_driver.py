"""The one-statement write on psycopg's own connection: it reads what SQLAlchemy reads,
hands the connection back out of autocommit, and fails as SQLAlchemy's Connection would."""

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from solo.db import postgres_driver, sessions
from solo.db.failures import unavailable
from solo.db.uow import UnitOfWork
from solo.domain.errors import DatabaseUnavailable
from solo.domain.quotas import Quotas
from solo.runtime.state_cache import StateCache
from solo.services import sessions as session_service
from tests.support.clock import FakeClock

UNLIMITED = 1 << 40
OPS = '[{"op":"add","path":"/ї","value":1}]'.encode()


def unit_of_work(postgres_engine: sa.Engine) -> UnitOfWork:
    return UnitOfWork(postgres_engine, None, Quotas(sessions=10, bytes=UNLIMITED))


@pytest.fixture
def head(postgres_engine):
    """A session of "олена" at rev 0, as `_GET` reads it."""
    clock = FakeClock()
    return session_service.create_session(
        unit_of_work(postgres_engine),
        StateCache(1 << 20),
        owner="олена",
        state={"а": "б"},
        clock=clock,
    ).session


def moved(head, rev: int):
    return dataclasses.replace(
        head, rev=rev, updated_at=head.updated_at + dt.timedelta(seconds=rev)
    )


def swap(postgres_engine, current, new, *, bytes_quota=UNLIMITED):
    with postgres_driver.autocommitted(postgres_engine) as statements:
        return sessions.advance_and_log(statements, current, new, OPS, bytes_quota=bytes_quota)


def read_head(postgres_engine, head):
    with unit_of_work(postgres_engine) as uow:
        return uow.sessions.get("олена", head.id)


def test_a_lost_swap_finds_the_head_as_sqlalchemy_reads_it(postgres_engine, head):
    assert swap(postgres_engine, head, moved(head, 1)).swapped
    lost = swap(postgres_engine, head, moved(head, 1))
    assert (lost.swapped, lost.found, [change.rev for change in lost.missed]) == (
        False,
        read_head(postgres_engine, head),
        [1],
    )
    assert lost.found.updated_at == head.updated_at + dt.timedelta(seconds=1)
    assert lost.missed[0].at == lost.found.updated_at


def test_the_connection_goes_back_to_the_pool_out_of_autocommit(postgres_engine, head):
    assert swap(postgres_engine, head, moved(head, 1)).swapped
    grown = dataclasses.replace(moved(head, 2), size=head.size + 100)
    refused = swap(postgres_engine, moved(head, 1), grown, bytes_quota=head.size)  # past the quota
    assert (refused.swapped, refused.found) == (False, None)
    pooled = postgres_engine.raw_connection()  # the pool's only connection, used by both
    try:
        assert pooled.driver_connection.autocommit is False
    finally:
        pooled.close()
    assert read_head(postgres_engine, head).rev == 1


def test_a_connection_lost_under_the_statement_is_invalidated_and_answers_503(
    postgres_engine, postgres_observer, head
):
    pooled = postgres_engine.raw_connection()
    backend = pooled.driver_connection.info.backend_pid
    postgres_observer.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": backend})
    values = {"session_id": head.id, "owner": "олена"}
    statement = sa.text("SELECT rev FROM sessions WHERE id = :session_id AND owner = :owner")
    try:
        with pytest.raises(sa.exc.OperationalError) as lost:
            postgres_driver.Autocommitted(pooled, postgres_engine.dialect).one(statement, values)
        assert (lost.value.connection_invalidated, pooled.is_valid) == (True, False)
        assert isinstance(unavailable(lost.value), DatabaseUnavailable)
    finally:
        pooled.close()
    assert swap(postgres_engine, head, moved(head, 1)).swapped  # on a new connection
