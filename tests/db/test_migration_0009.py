"""Migration 0009 counts what each user already stores and makes every session with
snapshots due for the retention policy; it downgrades cleanly."""

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import command

from solo.db.engine import make_engine
from solo.db.migrate import alembic_config, upgrade
from solo.db.models import UtcDateTime

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
OWNERS = {"олена": 2, "тарас": 1}


def test_upgrading_counts_each_users_usage_and_schedules_their_snapshots(empty_database_url):
    command.upgrade(alembic_config(empty_database_url), "0008")
    sessions = sa.table(
        "sessions",
        *(sa.column(name) for name in ("owner", "rev", "size", "checkpoint_rev")),
        *(sa.column(name) for name in ("replay_cost", "kept_bytes")),
        sa.column("id", sa.Uuid()),
        sa.column("created_at", UtcDateTime()),
        sa.column("updated_at", UtcDateTime()),
    )
    snapshots = sa.table(
        "snapshots",
        *(sa.column(name) for name in ("rev", "key", "size", "claim")),
        sa.column("session_id", sa.Uuid()),
        sa.column("created_at", UtcDateTime()),
    )
    engine = make_engine(empty_database_url)
    ids = []
    with engine.begin() as connection:
        for owner, count in OWNERS.items():
            for n in range(count):
                session_id = uuid.uuid4()
                ids.append(session_id)
                connection.execute(
                    sa.insert(sessions).values(
                        id=session_id,
                        owner=owner,
                        rev=1,
                        size=100 + n,
                        checkpoint_rev=1,
                        replay_cost=0,
                        kept_bytes=0,
                        created_at=T0,
                        updated_at=T0,
                    )
                )
        for rev, claim in ((0, None), (1, "заявка")):
            connection.execute(
                sa.insert(snapshots).values(
                    session_id=ids[0],
                    rev=rev,
                    key=f"solo/олена/{ids[0]}/{rev}.json",
                    size=1000,
                    claim=claim,
                    created_at=T0,
                )
            )
    engine.dispose()
    upgrade(empty_database_url)
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            usage = connection.execute(sa.text("SELECT owner, sessions, bytes FROM quota_usage"))
            due = connection.execute(sa.text("SELECT session_id FROM retention_due"))
            labels = connection.execute(sa.text("SELECT name, pinned FROM snapshots"))
            assert sorted(map(tuple, usage)) == [("олена", 2, 100 + 101 + 2000), ("тарас", 1, 100)]
            assert [uuid.UUID(str(row[0])) for row in due] == [ids[0]]
            assert sorted(map(tuple, labels)) == [(None, False), (None, False)]
    finally:
        engine.dispose()
    command.downgrade(alembic_config(empty_database_url), "0008")
    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
            assert {"quota_usage", "retention_due"}.isdisjoint(tables)
            columns = {c["name"] for c in sa.inspect(connection).get_columns("snapshots")}
            assert {"name", "pinned"}.isdisjoint(columns)
    finally:
        engine.dispose()
