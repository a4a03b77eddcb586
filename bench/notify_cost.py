"""What a PostgreSQL NOTIFY costs a write: 16 writers of one-row transactions, with and
without a `pg_notify` in each, twice each way (the reason writers announce only the
revisions of watched sessions).

Usage: .venv/bin/python -m bench.notify_cost [--postgres-url URL] [--seconds 4]
"""

from __future__ import annotations

import argparse
import threading
import time

import psycopg
from sqlalchemy.engine import make_url

WRITERS = 16
ROWS = 64


def commits_per_second(conninfo: str, notify: bool, seconds: float) -> float:
    done = [0] * WRITERS
    stop = time.monotonic() + seconds

    def writer(index: int) -> None:
        with psycopg.connect(conninfo) as connection:
            while time.monotonic() < stop:
                with connection.transaction():
                    row = (index * 7 + done[index]) % ROWS
                    connection.execute("UPDATE notify_cost SET n = n + 1 WHERE id = %s", (row,))
                    if notify:
                        connection.execute("SELECT pg_notify('notify_cost', %s)", (str(row),))
                done[index] += 1

    threads = [threading.Thread(target=writer, args=(index,)) for index in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--seconds", type=float, default=4)
    args = parser.parse_args()
    conninfo = (
        make_url(args.postgres_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("DROP TABLE IF EXISTS notify_cost")
        connection.execute("CREATE TABLE notify_cost (id int PRIMARY KEY, n int)")
        connection.execute(
            f"INSERT INTO notify_cost SELECT g, 0 FROM generate_series(0, {ROWS - 1}) g"
        )
    try:
        for notify in (False, True, False, True):
            rate = commits_per_second(conninfo, notify, args.seconds)
            print(f"{'with' if notify else 'without'} a NOTIFY in each: {rate:,.0f} commits/s")
    finally:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute("DROP TABLE notify_cost")


if __name__ == "__main__":
    main()
