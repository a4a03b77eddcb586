"""The Alembic migrations build exactly the schema the models describe."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from solo.db.engine import make_engine
from solo.db.models import Base


def test_migrated_schema_matches_the_models(database_url):
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            assert compare_metadata(context, Base.metadata) == []
            assert context.get_current_revision() is not None
            assert sa.inspect(connection).has_table("sessions")
    finally:
        engine.dispose()
