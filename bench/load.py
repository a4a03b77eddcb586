"""`make bench`: Solo under load from wrk, with baselines measured in the same run.

For each database (SQLite, PostgreSQL) and number of server processes (1, 2), in a fresh
database, with one `solo serve` and one plain baseline app of that many processes:
  (a) `GET /healthz` of the same `solo serve`: the stack without any of Solo's work;
then for each shape (`users`: 64 users each writing its own session; `hot`: one user's one
session that all 16 connections write) and each state size (1k, 100k, 1m, 2m):
  (b) `plain diff`: the same diff in bench/baseline_app.py, a bare Starlette app doing the
      same compare-and-swap on its own table in the same database: the contract's cost;
  `diff` (PATCH of a counter, ~60 bytes), `keyed` (hot only: diffs as the autosave client
  sends them, each adding a member of its own with a fresh `Idempotency-Key`), `rebase`
  (hot only: the same diffs with `Solo-Base-Rev`, so the server moves each over the writes
  it has not seen; the lines after it give its req/s over `keyed`'s, the same row without
  the rebase, and over `diff`'s), `save` (the whole state to save-stream), `get` (GET the
  session) and `get304` (the same GET with the current ETag in If-None-Match).
Writes send `If-Match: *`. wrk (one thread, 16 connections, bench/requests.lua) sends each
row's requests for --duration seconds, then waits for every answer still in flight, so the
revs read afterwards are final. Each configuration starts with --warmup seconds of (a) and
of both servers' diff. The run fails (exit 1) on any 5xx, any 412 to `If-Match: *`, any
other unexpected answer, any request left unanswered and any acknowledged write missing
from the revs afterwards, having finished the matrix first.
Usage: .venv/bin/python -m bench.load [--db sqlite,postgresql] [--workers 1,2]
    [--shape users,hot] [--sizes 1k,100k,1m,2m] [--ops diff,keyed,rebase,save,get,get304]
    [--duration 3] [--warmup 1] [--postgres-url URL] [--logs DIR]
    [--solo-setting SOLO_NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import sys
import time

from bench import report, stack, wrk
from bench.matrix import USERS, Matrix, Options
from bench.states import SIZES, encode, make_state

CHOICES = {
    "db": ["sqlite", "postgresql"],
    "workers": ["1", "2"],
    "shape": ["users", "hot"],
    "sizes": list(SIZES),
    "ops": ["diff", "keyed", "rebase", "save", "get", "get304"],
}
LEGEND = """
req/s: answers within the measured seconds; p50/p99: latency of every answer; ×health:
req/s over (a) in the same configuration; ×plain: diff req/s over (b) for the same shape
and size. ok (200, or 304 for get304), 412, 5xx and other count every answer, including
those drained after the window; lost: 200s whose rev increment is missing afterwards."""
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main(argv: list[str] | None = None) -> int:
    started = time.monotonic()
    stack.stop_on_sigterm()
    options = _options(argv)
    print(f"Solo load benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {wrk.version()}")
    print(
        f"{wrk.CONNECTIONS} connections, {wrk.THREADS} wrk thread, {options.duration} s per row "
        f"after {options.warmup} s warm-ups per configuration; users = {USERS} users each "
        "writing its own session, hot = one session; writes send If-Match: *"
    )
    sizes = ", ".join(
        f"{size} = {len(encode(make_state(SIZES[size])))} B" for size in options.sizes
    )
    print(f"state sizes (compact UTF-8 JSON): {sizes}\n")
    print(report.header(), flush=True)
    matrix = Matrix(options)
    for db in options.dbs:
        for workers in options.workers:
            matrix.configuration(db, workers)
    print(
        f"\n{len(matrix.rows)} rows in {time.monotonic() - started:.0f} s; logs in {options.logs}"
    )
    if matrix.failures:
        print(f"FAILED: {len(matrix.failures)} problems")
        for failure in matrix.failures:
            print(f"  {failure}")
        return 1
    print("No 5xx, no 412 to If-Match: *, no lost acknowledged write.")
    return 0


def _options(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(prog="bench.load", description=__doc__.splitlines()[0])
    for name, choices in CHOICES.items():
        parser.add_argument(f"--{name}", default=",".join(choices), help=",".join(choices))
    parser.add_argument("--duration", type=int, default=3, help="seconds measured per row")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of each warm-up")
    parser.add_argument("--postgres-url", default=POSTGRES_URL, help="an existing database")
    parser.add_argument(
        "--solo-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an extra SOLO_* setting for solo serve, e.g. SOLO_VALIDATE_RESPONSES=true",
    )
    parser.add_argument(
        "--logs",
        type=pathlib.Path,
        default=pathlib.Path("var/bench"),
        help="server logs and wrk output go to a dated folder here",
    )
    args = parser.parse_args(argv)
    picked = {}
    for name, choices in CHOICES.items():
        picked[name] = [value for value in getattr(args, name).split(",") if value]
        unknown = set(picked[name]) - set(choices)
        if unknown or not picked[name]:
            parser.error(f"--{name} takes some of {','.join(choices)}, not {getattr(args, name)}")
    if args.duration < 1 or args.warmup < 0:
        parser.error("--duration must be at least 1 and --warmup at least 0")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return Options(
        dbs=picked["db"],
        workers=[int(n) for n in picked["workers"]],
        shapes=picked["shape"],
        sizes=picked["sizes"],
        ops=picked["ops"],
        duration=args.duration,
        warmup=args.warmup,
        postgres_url=args.postgres_url,
        logs=args.logs.resolve() / stamp,
        solo_settings=_settings(parser, args.solo_setting),
    )


def _settings(parser: argparse.ArgumentParser, given: list[str]) -> dict[str, str]:
    settings = dict(setting.partition("=")[::2] for setting in given)
    if any(not name.startswith("SOLO_") for name in settings):
        parser.error("--solo-setting takes SOLO_NAME=VALUE")
    return settings


if __name__ == "__main__":
    sys.exit(main())
