"""One target ratio of the matrix, measured in alternating rounds against the host's drift.

bench.load runs each configuration once, minutes apart from the next, and on these shared
2-core hosts the same row can move by 15 to 30 % between two runs a few minutes apart: a
ratio of two configurations read off one matrix is as noisy. Here both servers are up at
once, each round runs the row on one and then the other, and the order flips every round
(an even number of them), so a steady drift favours neither; the ratio is reported per
round and as the median over the rounds, whose spread shows the noise that remains.

Pairs (the 1 KiB diff with `If-Match: *`, 16 connections, as in bench.load):
  workers: Solo with --workers N over Solo with 1, each on a fresh database of its own
           (--workers 1 measures the same build twice: the method's own noise);
  plain:   Solo over the plain app (bench/baseline_app.py) with the same processes, on one
           database.
Any 5xx, 412, unanswered request or lost acknowledged write fails the run (exit 1).

Usage: .venv/bin/python -m bench.ratios --pair workers|plain [--db sqlite|postgresql]
       [--workers 2] [--shape users|hot] [--rounds 6] [--seconds 5] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import pathlib
import statistics
import tempfile
from collections.abc import Callable

import sqlalchemy as sa

from bench import baseline_app, stack, wrk
from bench.load import POSTGRES_URL
from bench.matrix import USERS, Sessions, make_sessions
from bench.report import Key, Row

WARM_UP_SECONDS = 2


@dataclasses.dataclass(frozen=True)
class Side:
    """One server of the pair, with the row it runs and how to read its sessions' revs."""

    key: Key
    server: stack.Server
    plan: wrk.Plan
    revs: Callable[[], list[int]]


def main(argv: list[str] | None = None) -> int:
    stack.stop_on_sigterm()
    options = _options(argv)
    folder = pathlib.Path(tempfile.mkdtemp(prefix="solo-ratios-"))
    ratios: list[float] = []
    failures: list[str] = []
    with contextlib.ExitStack() as cleanup:
        pick = _workers_pair if options.pair == "workers" else _plain_pair
        base, measured = pick(options, folder, cleanup)
        for side in (base, measured):
            outcome, _ = wrk.run(side.server.base_url, side.plan, WARM_UP_SECONDS, folder)
            failures += [
                f"warm-up {problem}" for problem in Row(side.key, outcome, None).problems()
            ]
        print(f"{measured.key} over {base.key}, {options.seconds} s per run")
        for number in range(options.rounds):
            base_row, measured_row = _round(base, measured, number, options.seconds, folder)
            failures += base_row.problems() + measured_row.problems()
            if not base_row.outcome.rate:
                failures.append(f"round {number + 1}: {base.key} answered nothing in time")
                break
            ratios.append(measured_row.outcome.rate / base_row.outcome.rate)
            print(
                f"round {number + 1}: {_summary(base_row)} | {_summary(measured_row)} | "
                f"{ratios[-1]:.2f}"
            )
    if ratios:
        print(
            f"median {statistics.median(ratios):.2f} (min {min(ratios):.2f}, "
            f"max {max(ratios):.2f}) over {len(ratios)} rounds"
        )
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


def _round(
    base: Side, measured: Side, number: int, seconds: int, folder: pathlib.Path
) -> tuple[Row, Row]:
    """The row on both servers, the base first in even rounds and second in odd ones."""
    if number % 2:
        measured_row = _row(measured, seconds, folder)
        return _row(base, seconds, folder), measured_row
    base_row = _row(base, seconds, folder)
    return base_row, _row(measured, seconds, folder)


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.ratios", description=__doc__.splitlines()[0])
    parser.add_argument("--pair", choices=("workers", "plain"), required=True)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--shape", choices=("users", "hot"), default="users")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--postgres-url", default=POSTGRES_URL)
    options = parser.parse_args(argv)
    if options.rounds < 2 or options.rounds % 2 or options.seconds < 1 or options.workers < 1:
        # Even rounds: each server runs first as often as second.
        parser.error("--rounds must be even and at least 2; --seconds and --workers at least 1")
    return options


def _workers_pair(
    options: argparse.Namespace, folder: pathlib.Path, cleanup: contextlib.ExitStack
) -> tuple[Side, Side]:
    """Solo with 1 process and with --workers, each on a database of its own (with
    --workers 1, the same build twice: what the method's noise alone gives)."""
    sides = []
    for role, workers in (("base", 1), ("measured", options.workers)):
        place = folder / role
        place.mkdir()
        url = cleanup.enter_context(stack.fresh_database(options.db, options.postgres_url, place))
        solo = stack.start_solo(url, workers, place)
        cleanup.callback(solo.stop)
        sessions = _sessions(options, solo, place, engine=None)
        key = Key(options.db, workers, options.shape, "1k", "solo", "diff")
        sides.append(Side(key, solo, sessions.plan("diff"), sessions.solo_revs))
    return sides[0], sides[1]


def _plain_pair(
    options: argparse.Namespace, folder: pathlib.Path, cleanup: contextlib.ExitStack
) -> tuple[Side, Side]:
    url = cleanup.enter_context(stack.fresh_database(options.db, options.postgres_url, folder))
    solo = stack.start_solo(url, options.workers, folder)
    cleanup.callback(solo.stop)
    plain = stack.start_baseline(url, options.workers, folder)
    cleanup.callback(plain.stop)
    engine = baseline_app.make_engine(url)
    cleanup.callback(engine.dispose)
    baseline_app.create_schema(engine)
    sessions = _sessions(options, solo, folder, engine=engine)
    key = Key(options.db, options.workers, options.shape, "1k", "", "diff")
    return (
        Side(
            dataclasses.replace(key, server="plain"),
            plain,
            sessions.plan("diff", "plain"),
            sessions.plain_revs,
        ),
        Side(
            dataclasses.replace(key, server="solo"), solo, sessions.plan("diff"), sessions.solo_revs
        ),
    )


def _sessions(
    options: argparse.Namespace,
    solo: stack.Server,
    folder: pathlib.Path,
    *,
    engine: sa.Engine | None,
) -> Sessions:
    """The row's sessions in Solo (and in the plain app's table, given its engine)."""
    users = [f"ratios-{n:02d}" for n in range(USERS if options.shape == "users" else 1)]
    return make_sessions(solo, users, "1k", folder, engine=engine)


def _row(side: Side, seconds: int, folder: pathlib.Path) -> Row:
    """One measured run; wrk drains every request it sent, so the revs are final."""
    before = sum(side.revs())
    outcome, _ = wrk.run(side.server.base_url, side.plan, seconds, folder)
    return Row(side.key, outcome, sum(side.revs()) - before)


def _summary(row: Row) -> str:
    outcome = row.outcome
    return (
        f"{row.key.server} ×{row.key.workers} {outcome.rate:.0f} req/s, "
        f"p99/p50 {outcome.p99_ms / outcome.p50_ms:.2f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
