"""What checking a user's bytes quota costs a write, two ways: computing the usage from the
rows (SUM over the user's sessions and their snapshots), or reading the one usage row the
writes keep. Counted in PostgreSQL buffers (8 KiB pages) touched and rows read, from
EXPLAIN (ANALYZE, BUFFERS): numbers a loaded machine does not change (no timing here).

Usage: .venv/bin/python -m bench.quota_cost [--postgres-url URL] [--sessions 1000]
       [--snapshots-each 64]
"""

from __future__ import annotations

import argparse
import json
import uuid

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from solo.db.migrate import upgrade

COMPUTED = """
SELECT (SELECT count(*) FROM sessions WHERE owner = %(owner)s),
       (SELECT coalesce(sum(size), 0) FROM sessions WHERE owner = %(owner)s)
     + (SELECT coalesce(sum(snapshots.size), 0) FROM snapshots
        JOIN sessions ON sessions.id = snapshots.session_id WHERE sessions.owner = %(owner)s)
"""
KEPT = (
    "UPDATE quota_usage SET bytes = bytes + 10 WHERE owner = %(owner)s AND bytes + 10 <= %(quota)s"
)


def plan_of(connection: psycopg.Connection, query: str, owner: str) -> dict:
    explained = connection.execute(
        "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + query, {"owner": owner, "quota": 2**40}
    ).fetchone()
    return explained[0][0]["Plan"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--snapshots-each", type=int, default=64)
    args = parser.parse_args()
    admin = sa.create_engine(make_url(args.postgres_url), isolation_level="AUTOCOMMIT")
    name = f"solo_quota_cost_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.postgres_url).set(database=name)
    try:
        upgrade(url.render_as_string(hide_password=False))
        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(conninfo, autocommit=True) as connection:
            fill(connection, args.sessions, args.snapshots_each)
            for label, query in (("computed from the rows", COMPUTED), ("the usage row", KEPT)):
                plan = plan_of(connection, query, "олена")
                found = {"way": label, "buffers": plan_buffers(plan), "rows_read": scanned(plan)}
                print(json.dumps(found, ensure_ascii=False))
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def plan_buffers(plan: dict) -> int:
    """Buffers the top node reports (PostgreSQL sums its children's into it)."""
    return plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)


def scanned(plan: dict) -> int:
    """Rows every scan of the plan produced."""
    own = plan["Actual Rows"] * plan["Actual Loops"] if "Scan" in plan["Node Type"] else 0
    return own + sum(scanned(child) for child in plan.get("Plans", []))


def fill(connection: psycopg.Connection, sessions: int, snapshots_each: int) -> None:
    """One user with `sessions` sessions of `snapshots_each` snapshots, and 99 other users
    as big, so that the user's rows are spread as they would be."""
    connection.execute(
        """
        INSERT INTO sessions (id, owner, rev, size, created_at, updated_at, checkpoint_rev,
                              replay_cost, kept_bytes)
        SELECT gen_random_uuid(), CASE WHEN g %% 100 = 0 THEN 'олена' ELSE 'u' || (g %% 100) END,
               1, 1000, now(), now(), 1, 0, 0
        FROM generate_series(1, %(count)s) AS g
        """,
        {"count": sessions * 100},
    )
    connection.execute(
        """
        INSERT INTO snapshots (session_id, rev, key, size, created_at, pinned)
        SELECT sessions.id, r, 'k', 2000, now(), false
        FROM sessions, generate_series(1, %(each)s) AS r
        """,
        {"each": snapshots_each},
    )
    connection.execute(
        "INSERT INTO quota_usage SELECT owner, count(*), sum(size) FROM sessions GROUP BY owner"
    )
    connection.execute("ANALYZE")


if __name__ == "__main__":
    main()
