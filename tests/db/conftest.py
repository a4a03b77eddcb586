"""Fixtures of the PostgreSQL driver tests: Solo's engine of one pooled connection, and a
connection of another engine to watch and end that one's backend."""

import pytest
import sqlalchemy as sa

from solo.db.engine import make_engine


@pytest.fixture
def postgres_engine(postgres_database_url):
    made = make_engine(postgres_database_url, pool_size=1)
    yield made
    made.dispose()


@pytest.fixture
def postgres_observer(postgres_database_url):
    other = sa.create_engine(postgres_database_url, isolation_level="AUTOCOMMIT")
    with other.connect() as connection:
        yield connection
    other.dispose()
