"""What a diff that shifts a long array back and forth costs the server, and a bystander.

Starts `solo serve` (one process) on a fresh database; one user holds a session whose state
is an array of a million numbers (about 2 MB), a bystander a small one. The bystander sends
one-op diffs back to back for the whole run (its latency is sampled before, during and
after), while the first user sends, `--hostile` times, the diff of 7,600 × (`remove /a/0`,
`add /a/0`) and a failing `test` (509 KB). Reports the hostile diff's answer and time, and
the bystander's p50/max latency in each phase.

Usage: .venv/bin/python -m bench.hostile_patch [--db sqlite,postgresql] [--hostile 5]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import tempfile
import threading
import time

import httpx2
import orjson

from bench.api import create_sessions
from bench.stack import API, SECRET, fresh_database, start_solo

HOSTILE_OPS = [{"op": "remove", "path": "/a/0"}, {"op": "add", "path": "/a/0", "value": 0}] * 7600
HOSTILE = orjson.dumps({"ops": [*HOSTILE_OPS, {"op": "test", "path": "/a/0", "value": 1}]})
SAMPLE_SECONDS = 2.0


def bystander(
    api_url: str,
    authorization: str,
    session_id: str,
    stop: threading.Event,
    out: list[tuple[float, float]],
) -> None:
    body = b'{"ops":[{"op":"replace","path":"/n","value":1}]}'
    headers = {"Authorization": authorization, "If-Match": "*", "Content-Type": "application/json"}
    with httpx2.Client(base_url=api_url, timeout=60) as http:
        while not stop.is_set():
            started = time.perf_counter()
            http.patch(
                f"/sessions/{session_id}/diff/", content=body, headers=headers
            ).raise_for_status()
            out.append((started, time.perf_counter() - started))


def summary(samples: list[float]) -> str:
    ms = sorted(1000 * s for s in samples)
    return f"p50 {statistics.median(ms):.1f} ms, max {ms[-1]:.1f} ms, n {len(ms)}"


def run(kind: str, postgres_url: str, hostile: int) -> None:
    with (
        tempfile.TemporaryDirectory() as folder,
        fresh_database(kind, postgres_url, pathlib.Path(folder)) as url,
    ):
        server = start_solo(url, 1, pathlib.Path(folder))
        try:
            api_url = server.base_url + API
            (attacker,) = create_sessions(
                api_url, ["атакер"], SECRET, orjson.dumps({"a": [0] * 1_000_000})
            )
            (victim,) = create_sessions(api_url, ["олена"], SECRET, b'{"n":0}')
            samples: list[tuple[float, float]] = []
            stop = threading.Event()
            thread = threading.Thread(
                target=bystander,
                args=(api_url, victim.authorization, victim.session_id, stop, samples),
            )
            thread.start()
            time.sleep(SAMPLE_SECONDS)
            begun = time.perf_counter()
            answers = []
            headers = {
                "Authorization": attacker.authorization,
                "If-Match": "*",
                "Content-Type": "application/json",
            }
            with httpx2.Client(base_url=api_url, timeout=60) as http:
                for _ in range(hostile):
                    started = time.perf_counter()
                    answer = http.patch(
                        f"/sessions/{attacker.session_id}/diff/", content=HOSTILE, headers=headers
                    )
                    answers.append(
                        (
                            answer.status_code,
                            answer.json().get("op_index"),
                            1000 * (time.perf_counter() - started),
                        )
                    )
            ended = time.perf_counter()
            time.sleep(SAMPLE_SECONDS)
            stop.set()
            thread.join()
        finally:
            server.stop()
    print(
        kind,
        "hostile diffs (status, op_index, ms):",
        [(s, i, round(ms, 1)) for s, i, ms in answers],
    )
    print(kind, "bystander before:", summary([d for t, d in samples if t < begun]))
    print(
        kind, "bystander during:", summary([d for t, d in samples if begun <= t < ended] or [0.0])
    )
    print(kind, "bystander after: ", summary([d for t, d in samples if t >= ended]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--hostile", type=int, default=5)
    args = parser.parse_args()
    postgres_url = os.environ.get(
        "SOLO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    for kind in args.db.split(","):
        run(kind, postgres_url, args.hostile)


if __name__ == "__main__":
    main()
