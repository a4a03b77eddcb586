"""The Alembic migrations build exactly the schema the models describe, and carry data."""

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from solo.db.engine import make_engine
from solo.db.migrate import HEAD, alembic_config, upgrade, upgrade_sqlite
from solo.db.models import Base, UtcDateTime
from solo.dependencies import Dependencies
from solo.domain import jsonvalue
from solo.domain.model import Patch
from solo.domain.preconditions import from_headers
from solo.services import sessions, writes
from solo.settings import Settings


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


STATES = {
    "0b8c7f51-9d52-4e77-8a0c-0f3a8c1e2d41": {"назва": "чернетка", "теги": ["а", "б"]},
    "6d1e7a02-3f4b-4a5c-9e6d-7c8b9a0f1e2d": {},
}
T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def test_upgrading_carries_existing_sessions_into_the_revision_log(empty_database_url, tmp_path):
    command.upgrade(alembic_config(empty_database_url), "0003")
    engine = make_engine(empty_database_url)
    legacy = sa.table(
        "sessions",
        sa.column("id", sa.Uuid()),
        sa.column("owner", sa.String()),
        sa.column("rev", sa.Integer()),
        sa.column("created_at", UtcDateTime()),
        sa.column("updated_at", UtcDateTime()),
        sa.column("state", sa.JSON()),
    )
    with engine.begin() as connection:
        for rev, (session_id, state) in enumerate(STATES.items(), start=3):
            connection.execute(
                sa.insert(legacy).values(
                    id=uuid.UUID(session_id),
                    owner="олена",
                    rev=rev,
                    state=state,
                    created_at=T0,
                    updated_at=T0,
                )
            )
    engine.dispose()
    upgrade(empty_database_url)
    deps = Dependencies.build(
        Settings(database_url=empty_database_url, storage_url=f"file://{tmp_path}/s")
    )
    try:
        for rev, (session_id, state) in enumerate(STATES.items(), start=3):
            session, encoded = sessions.get_session(
                deps.database.unit_of_work(),
                deps.states,
                owner="олена",
                session_id=uuid.UUID(session_id),
            )
            assert (session.rev, session.checkpoint_rev, jsonvalue.decode(encoded)[0]) == (
                rev,
                rev,
                state,
            )
            writes.write(
                deps.database.unit_of_work(),
                deps.states,
                writes.Write(
                    "олена",
                    uuid.UUID(session_id),
                    from_headers("*", None),
                    Patch([{"op": "add", "path": "/після", "value": rev}]),
                ),
                clock=lambda: T0,
                kept=Settings().kept_log,
            )
    finally:
        deps.close()
    command.downgrade(alembic_config(empty_database_url), "0003")
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            folded = dict(connection.execute(sa.select(legacy.c.id, legacy.c.state)).all())
    finally:
        engine.dispose()
    assert folded == {
        uuid.UUID(session_id): {**state, "після": rev}
        for rev, (session_id, state) in enumerate(STATES.items(), start=3)
    }


def test_head_names_the_newest_migration():
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert scripts.get_current_head() == HEAD


def test_serving_sqlite_migrates_a_file_behind_and_leaves_one_at_head_alone(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/база.db"
    command.upgrade(alembic_config(url), "0008")
    upgrade_sqlite(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() == HEAD
    finally:
        engine.dispose()

    def not_again(_url):
        raise AssertionError("Alembic ran on a file at its head")

    monkeypatch.setattr("solo.db.migrate.upgrade", not_again)
    upgrade_sqlite(url)
