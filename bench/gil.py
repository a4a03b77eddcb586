"""Where a request's time holding the GIL goes: `solo serve` under wrk, sampled by py-spy.

Usage: .venv/bin/python -m bench.gil [--db sqlite|postgresql] [--workers N] [--op diff]
           [--users 64] [--seconds 10] [--py-spy PATH]
py-spy is not one of Solo's dependencies: install it beside (`pip install py-spy`). The run
starts a fresh database and `solo serve`, creates the users' 1 KiB sessions, warms up for
3 s, then records `py-spy record --gil` on every serving process while wrk runs. It prints
the µs of GIL per answered request: in all, by the package of the innermost frame, and
inclusive for Solo's own functions.
"""

from __future__ import annotations

import argparse
import collections
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

from bench import matrix, stack, wrk

RATE_HZ = 200
WARM_UP_SECONDS = 3
PACKAGES = (
    *("connexion", "sqlalchemy", "starlette", "uvicorn", "jsonschema", "prometheus_client"),
    *("asyncio", "logging", "concurrent", "threading", "json", "uuid"),
)
SHOWN = 25


def main(argv: list[str] | None = None) -> int:
    options = _options(argv)
    folder = pathlib.Path(tempfile.mkdtemp(prefix="solo-gil-"))
    with stack.fresh_database(options.db, options.postgres_url, folder) as url:
        solo = stack.start_solo(url, options.workers, folder)
        try:
            plan = users_plan(solo, options.users, options.op, folder)
            wrk.run(solo.base_url, plan, WARM_UP_SECONDS, folder)
            outcome, samples = _recorded(solo, plan, options, folder)
        finally:
            solo.stop()
    _report(outcome, samples)
    return 0


def _options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--op", choices=["diff", "keyed", "rebase"], default="diff")
    parser.add_argument("--users", type=int, default=matrix.USERS)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--py-spy", default=shutil.which("py-spy") or "py-spy")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "SOLO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
    )
    options = parser.parse_args(argv)
    if options.op != "diff" and options.users != 1:
        parser.error(f"--op {options.op} writes one session: give --users 1")
    return options


def users_plan(solo: stack.Server, users: int, op: str, folder: pathlib.Path) -> wrk.Plan:
    names = [f"користувач-{n:02d}" for n in range(users)]
    return matrix.make_sessions(solo, names, "1k", folder, engine=None).plan(op)


def _recorded(
    solo: stack.Server, plan: wrk.Plan, options: argparse.Namespace, folder: pathlib.Path
) -> tuple[wrk.Outcome, list[str]]:
    """wrk's outcome, and py-spy's raw samples (`frame;frame;… count`) of every process
    that answers: the server itself, or its workers."""
    children = subprocess.run(
        ["pgrep", "-P", str(solo.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    pids = [solo.pid] if options.workers == 1 else [int(pid) for pid in children]
    outputs = [folder / f"py-spy-{pid}.txt" for pid in pids]
    record = [options.py_spy, "record", "--gil", "--format", "raw", "--full-filenames"]
    record += ["-r", str(RATE_HZ), "-d", str(options.seconds + 2)]
    spies = [
        subprocess.Popen(
            [*record, "-p", str(pid), "-o", str(output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid, output in zip(pids, outputs, strict=True)
    ]
    time.sleep(1)  # py-spy attaches
    outcome, _ = wrk.run(solo.base_url, plan, options.seconds, folder)
    for spy in spies:
        spy.wait()
    return outcome, [line for output in outputs for line in output.read_text().splitlines()]


def _report(outcome: wrk.Outcome, samples: list[str]) -> None:
    per_request = 1e6 / RATE_HZ / outcome.in_window
    by_package: collections.Counter[str] = collections.Counter()
    by_function: collections.Counter[str] = collections.Counter()
    for line in samples:
        stack_text, _, count = line.rpartition(" ")
        frames = stack_text.split(";")
        by_package[_package(frames[-1])] += int(count)
        for function in {_solo_function(frame) for frame in frames} - {None}:
            by_function[function] += int(count)
    total = sum(by_package.values())
    print(f"{outcome.in_window} requests answered, {outcome.rate:.0f} req/s")
    print(f"GIL per request: {total * per_request:.0f} µs")
    for name, count in by_package.most_common(SHOWN):
        print(f"  {name:<40} {count * per_request:7.0f} µs")
    print("Solo's functions, inclusive:")
    for name, count in by_function.most_common(SHOWN):
        print(f"  {name:<72} {count * per_request:7.0f} µs")


def _package(frame: str) -> str:
    """The package of a frame `function (path:line)`: Solo, a library, or the module."""
    path = frame.rpartition(" (")[2]
    if "/solo/" in path and "site-packages" not in path:
        return "solo"
    for package in PACKAGES:
        if f"/{package}/" in path or path.rsplit("/", 1)[-1].startswith(f"{package}."):
            return package
    return path.rsplit("/", 1)[-1].split(":")[0]


def _solo_function(frame: str) -> str | None:
    function, _, path = frame.partition(" (")
    if "/solo/" not in path or "site-packages" in path:
        return None
    return f"{function} solo/{path.split('/solo/')[-1].split(':')[0]}"


if __name__ == "__main__":
    sys.exit(main())
