"""What the hardening adds to each request, measured in process (µs per call).

Usage: .venv/bin/python -m bench.overheads
Prints the cost of each per-request addition: the request metric (in prometheus-client's
multiprocess mode, as `solo serve` runs, and without it), the database-call metric, the
access log line against uvicorn's own (which it replaces), a database-thread round trip
with its start deadline against a bare `run_in_executor`, the per-session gate of writes,
and the body deadline of body-reading operations.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import subprocess
import sys
import tempfile
import time
import timeit

CALLS = 200_000
LINES = 50_000
ROUND_TRIPS = 20_000


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--metrics-only":
        _metrics("multiprocess mode")
        return 0
    _metrics("single process")
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="solo-bench-")}
    subprocess.run([sys.executable, "-m", "bench.overheads", "--metrics-only"], env=env, check=True)
    _access_log()
    asyncio.run(_async_parts())
    return 0


def _report(what: str, seconds: float, calls: int) -> None:
    print(f"{what:<58} {seconds / calls * 1e6:7.2f} µs")


def _metrics(mode: str) -> None:
    from solo.runtime.metrics import Metrics

    metrics = Metrics()
    elapsed = timeit.timeit(lambda: metrics.request("diffSession", 200, 0.0123), number=CALLS)
    _report(f"request metric ({mode})", elapsed, CALLS)
    elapsed = timeit.timeit(lambda: metrics.database("ok", 0.0012), number=CALLS)
    _report(f"database-call metric ({mode})", elapsed, CALLS)


def _access_log() -> None:
    from uvicorn.logging import AccessFormatter

    from solo.runtime import logs

    def logger(name: str, formatter: logging.Formatter) -> logging.Logger:
        handler = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115
        handler.setFormatter(formatter)
        made = logging.getLogger(name)
        made.addHandler(handler)
        made.setLevel(logging.INFO)
        made.propagate = False
        return made

    ours = logger("bench.solo.access", logs.JsonFormatter())
    token = logs.REQUEST_ID.set("5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10")
    path = "/api/v1/solo/sessions/5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10/diff/"
    extra = {"operation": "diffSession", "status": 200, "ms": 1.234}
    elapsed = timeit.timeit(
        lambda: ours.info("%s %s %s", "PATCH", path, 200, extra=extra), number=LINES
    )
    logs.REQUEST_ID.reset(token)
    _report("access log line, Solo's JSON (to /dev/null)", elapsed, LINES)
    theirs = logger("bench.uvicorn.access", AccessFormatter('%(client_addr)s - "%(request_line)s"'))
    line = '%s - "%s %s HTTP/%s" %d'
    elapsed = timeit.timeit(
        lambda: theirs.info(line, "127.0.0.1:5000", "PATCH", path, "1.1", 200), number=LINES
    )
    _report("access log line, uvicorn's default, replaced (to /dev/null)", elapsed, LINES)


async def _async_parts() -> None:
    from solo.runtime.bulkheads import KeyedGate, started_within

    loop = asyncio.get_running_loop()
    threads = concurrent.futures.ThreadPoolExecutor(4)
    for _warm_up_then_measure in range(2):
        started = time.perf_counter()
        for _ in range(ROUND_TRIPS):
            await loop.run_in_executor(threads, int)
        bare = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(ROUND_TRIPS):
            await started_within(threads, 5, int)
        bounded = time.perf_counter() - started
    _report("database thread round trip, bare run_in_executor", bare, ROUND_TRIPS)
    _report("database thread round trip, with its start deadline", bounded, ROUND_TRIPS)
    gate = KeyedGate(2, 5)
    started = time.perf_counter()
    for index in range(ROUND_TRIPS):
        async with gate.held(index % 64):
            pass
    _report("per-session gate of a write, uncontended", time.perf_counter() - started, ROUND_TRIPS)
    started = time.perf_counter()
    for _ in range(ROUND_TRIPS):
        async with asyncio.timeout(60):
            pass
    _report("body deadline (asyncio.timeout)", time.perf_counter() - started, ROUND_TRIPS)
    threads.shutdown()


if __name__ == "__main__":
    sys.exit(main())
