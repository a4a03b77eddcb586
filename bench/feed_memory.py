"""What a change-feed page costs the server in memory, and what the kept log costs on disk.

Starts `solo serve` (one process, responses not validated: the production setting) on a
fresh database, writes `--megabytes` of diffs to one session (each adds and removes a
string of about 400 KB, so the state stays a few bytes while the log would grow), then
reads `GET …/changes/?since=<oldest kept>&limit=1000` and reports the server's peak
resident memory during the read against its resident memory before it (Linux: the peak is
reset through /proc/<pid>/clear_refs), with the bytes the session's log keeps in the
database against the bound (SOLO_CHANGES_KEPT_MB, 32 MiB by default).

Usage: .venv/bin/python -m bench.feed_memory [--db sqlite,postgresql] [--megabytes 100]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import tempfile

import httpx2
import sqlalchemy as sa

from bench.api import create_sessions
from bench.stack import API, SECRET, Server, fresh_database, start_solo

DIFF_STRING_CHARACTERS = 200_000
"""Two-byte characters: about 400 KB a diff, under the 512 KiB diff limit."""


def memory_kib(server: Server, field: str) -> int:
    status = pathlib.Path(f"/proc/{server.pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith(field))


def kept_bytes(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as db:
            return sum(
                db.execute(
                    sa.text(f"SELECT COALESCE(SUM(LENGTH({column})), 0) FROM {table}")
                ).scalar_one()
                for table, column in (("changes", "ops"), ("checkpoints", "state"))
            )
    finally:
        engine.dispose()


def run(kind: str, postgres_url: str, megabytes: int) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory() as folder,
        fresh_database(kind, postgres_url, pathlib.Path(folder)) as database_url,
    ):
        server = start_solo(database_url, 1, pathlib.Path(folder))
        try:
            api_url = server.base_url + API
            (writer,) = create_sessions(api_url, ["олена"], SECRET, b'{"a":1}')
            headers = {"Authorization": writer.authorization}
            with httpx2.Client(base_url=api_url, timeout=60) as http:
                diffs = megabytes * 1_000_000 // (2 * DIFF_STRING_CHARACTERS)
                for n in range(diffs):
                    text = chr(0x0430 + n % 32) * DIFF_STRING_CHARACTERS
                    ops = [
                        {"op": "add", "path": "/тимчасове", "value": text},
                        {"op": "remove", "path": "/тимчасове"},
                    ]
                    answer = http.patch(
                        f"/sessions/{writer.session_id}/diff/",
                        json={"ops": ops},
                        headers={**headers, "If-Match": "*"},
                    )
                    answer.raise_for_status()
                oldest = http.get(
                    f"/sessions/{writer.session_id}/changes/",
                    params={"since": 0},
                    headers=headers,
                ).json()["oldest_rev"]
                before = memory_kib(server, "VmRSS")
                pathlib.Path(f"/proc/{server.pid}/clear_refs").write_text("5")
                page = http.get(
                    f"/sessions/{writer.session_id}/changes/",
                    params={"since": oldest, "limit": 1000},
                    headers=headers,
                )
                page.raise_for_status()
                peak = memory_kib(server, "VmHWM")
        finally:
            server.stop()
        return {
            "written_mb": diffs * 2 * DIFF_STRING_CHARACTERS / 1e6,
            "page_mb": len(page.content) / 1e6,
            "changes_in_page": len(page.json()["changes"]),
            "rss_growth_mb": (peak - before) * 1024 / 1e6,
            "kept_log_mb": kept_bytes(database_url) / 1e6,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--megabytes", type=int, default=100)
    args = parser.parse_args()
    postgres_url = os.environ.get(
        "SOLO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    for kind in args.db.split(","):
        print(kind, run(kind, postgres_url, args.megabytes), flush=True)


if __name__ == "__main__":
    main()
