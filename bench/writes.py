"""Throughput of the autosave path, as ratios against a baseline measured in the same run.

Starts `solo serve` on the embedded default (SQLite, local folder, in-memory limits) and
times, over one kept-alive connection each:
  baseline   GET  /healthz                 (framework, middleware, no database)
  read       GET  /sessions/{id}/           (auth, rate limit, one SELECT, response check)
  diff       PATCH /sessions/{id}/diff/     (auth, rate limit, body limit, CAS UPDATE)
  beacon     POST /sessions/{id}/beacon/    (auth, body limit, INSERT + retention DELETE)
Usage: .venv/bin/python bench/writes.py [--requests N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import statistics
import sys
import tempfile
import time

import httpx2

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from solo.auth import mint_token  # noqa: E402
from solo.settings import Settings  # noqa: E402
from tests.support.server import LiveServer  # noqa: E402

SECRET = "bench-secret-0123456789abcdef0123456789"
FAST = "100000000/minute"


def timed(label: str, count: int, call) -> tuple[str, float, float]:
    latencies = []
    started = time.perf_counter()
    for n in range(count):
        begun = time.perf_counter()
        call(n)
        latencies.append(time.perf_counter() - begun)
    elapsed = time.perf_counter() - started
    p95 = statistics.quantiles(latencies, n=20)[18]
    return label, count / elapsed, p95 * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    count = parser.parse_args().requests
    folder = pathlib.Path(tempfile.mkdtemp(prefix="solo-bench-"))
    env = {
        "SOLO_DATABASE_URL": f"sqlite:///{folder}/solo.db",
        "SOLO_STORAGE_URL": f"file://{folder}/snapshots",
        "SOLO_JWT_SECRET": SECRET,
        **{f"SOLO_RATE_LIMIT_{group}": FAST for group in ("WRITE", "BEACON", "SNAPSHOT", "READ")},
    }
    server = LiveServer(env, log_path=folder / "server.log")
    token = mint_token(Settings(jwt_secret=SECRET), "бенчмарк", 3600, dt.datetime.now(dt.UTC))
    auth = {"Authorization": f"Bearer {token}"}
    try:
        with httpx2.Client(base_url=server.api_url, timeout=30) as http:
            created = http.post("/sessions/", json={"state": {"текст": "ж" * 2000}}, headers=auth)
            session = created.json()["id"]
            etag = {"value": created.headers["ETag"]}

            def diff(n: int) -> None:
                response = http.patch(
                    f"/sessions/{session}/diff/",
                    json={"ops": [{"op": "replace", "path": "/лічильник", "value": n}]}
                    if n
                    else {"ops": [{"op": "add", "path": "/лічильник", "value": n}]},
                    headers={**auth, "If-Match": etag["value"]},
                )
                assert response.status_code == 200, response.text
                etag["value"] = response.headers["ETag"]

            rows = [
                timed("baseline GET /healthz", count, lambda n: http.get("/healthz")),
                timed(
                    "GET session", count, lambda n: http.get(f"/sessions/{session}/", headers=auth)
                ),
                timed("PATCH diff", count, diff),
                timed(
                    "POST beacon",
                    count,
                    lambda n: http.post(
                        f"/sessions/{session}/beacon/",
                        content=b'{"e":"hidden"}',
                        headers={**auth, "Content-Type": "text/plain"},
                    ),
                ),
            ]
    finally:
        server.stop()
    baseline = rows[0][1]
    print(f"{count} sequential requests each, one connection, SQLite, 1 worker")
    print(f"{'operation':<24}{'req/s':>10}{'p95 ms':>10}{'vs baseline':>14}")
    for label, rate, p95 in rows:
        print(f"{label:<24}{rate:>10.0f}{p95:>10.2f}{rate / baseline:>14.2f}")


if __name__ == "__main__":
    main()
