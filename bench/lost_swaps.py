"""What a write costs PostgreSQL when a session's writes reach several processes: database
transactions per answered write, from `pg_stat_database`, with 1 and then 2 processes.

Each process keeps the sessions it wrote in its state cache and swaps against the head it
holds. wrk sends every session's writes over every connection, as a proxy's pool of
connections would, so with two processes a write often finds its session last written by
the other one: its swap is lost, the statement brings back what it missed, and a second
statement swaps. One transaction per write means every swap won the first time.

Each count is taken with wrk running a thread per connection, in two ways: every session's
writes over every connection, and each session's writes on one connection only (as one
browser's would travel), which loses no swap. Each way runs twice, in the order A B B A.
Their req/s side by side estimate what the lost swaps cost; on these shared hosts, take
several runs before reading a difference of a few percent.

Usage: .venv/bin/python -m bench.lost_swaps [--workers 1,2] [--users 64] [--seconds 8]
       [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import tempfile
import time

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench import stack, wrk
from bench.gil import users_plan
from bench.load import POSTGRES_URL

WARM_UP_SECONDS = 2
STATS_SECONDS = 11
"""How long PostgreSQL may take to count a backend's finished transactions: a backend that
goes idle less than a second after it last reported holds its counts back for 10 s
(PostgreSQL 15's PGSTAT_IDLE_INTERVAL), and Solo's pooled connections go idle when wrk
stops."""
_COUNTED = sa.text(
    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = :database"
)


def main(argv: list[str] | None = None) -> int:
    stack.stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--users", type=int, default=64)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    options = parser.parse_args(argv)
    for workers in (int(n) for n in options.workers.split(",")):
        for spread, (writes, rate, transactions) in _measured(options, workers).items():
            print(
                f"×{workers}, {spread}: {writes} writes, {rate:.0f} req/s, "
                f"{transactions / writes:.2f} transactions per write"
            )
    return 0


def _measured(options: argparse.Namespace, workers: int) -> dict[str, tuple[int, float, int]]:
    """For each way of spreading the sessions over connections, over its runs: the writes
    answered, their rate, and the transactions PostgreSQL counted meanwhile."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="solo-lost-swaps-"))
    with stack.fresh_database("postgresql", options.postgres_url, folder) as url:
        solo = stack.start_solo(url, workers, folder)
        engine = sa.create_engine(url)
        try:
            spread = dataclasses.replace(
                users_plan(solo, options.users, "diff", folder), threads=wrk.CONNECTIONS
            )
            plans = {
                "every session over every connection": spread,
                "a session per connection": dataclasses.replace(
                    spread, session_per_connection=True
                ),
            }
            runs: dict[str, list[tuple[wrk.Outcome, int]]] = {name: [] for name in plans}
            # Twice each, in the order A B B A, so that a steady drift favours neither.
            for name in [*plans, *reversed(plans)]:
                wrk.run(solo.base_url, plans[name], WARM_UP_SECONDS, folder)
                before = _transactions(engine)
                outcome, _ = wrk.run(solo.base_url, plans[name], options.seconds, folder)
                # Less the one transaction that reading the count itself makes.
                runs[name].append((outcome, _transactions(engine) - before - 1))
        finally:
            solo.stop()
            engine.dispose()
    return {name: _totals(measured) for name, measured in runs.items()}


def _totals(runs: list[tuple[wrk.Outcome, int]]) -> tuple[int, float, int]:
    """The writes answered (every 200, drained ones included, as PostgreSQL counted their
    transactions too), the rate within the windows, and the transactions."""
    writes = sum(outcome.statuses.get(200, 0) for outcome, _ in runs)
    seconds = sum(outcome.seconds for outcome, _ in runs)
    rate = sum(outcome.in_window for outcome, _ in runs) / seconds
    return writes, rate, sum(transactions for _, transactions in runs)


def _transactions(engine: sa.Engine) -> int:
    time.sleep(STATS_SECONDS)
    with engine.connect() as db:
        return int(db.execute(_COUNTED, {"database": make_url(str(engine.url)).database}).scalar())


if __name__ == "__main__":
    raise SystemExit(main())
