"""`solo backup` while a server serves and writes, `solo restore-backup` into a fresh
database, a fresh server on it: every write acknowledged before the backup began is there,
and a client ahead of the restored server is told to refetch."""

import concurrent.futures
import os
import shutil
import sqlite3
import subprocess
import threading
import time

import httpx2
import pytest

from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.clients import SpecCheckedClient
from tests.support.server import SOLO, LiveServer

WRITERS = 6


def solo(*args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SOLO_")}
    return subprocess.run(
        [str(SOLO), *args], env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def last_line(text):
    """What the command says last (the JSON log lines come first)."""
    return text.strip().splitlines()[-1]


class Writers:
    """Clients that each add `/k<rev>` to their own session as fast as they are answered,
    and remember every rev acknowledged."""

    def __init__(self, server, headers):
        self.server, self.headers = server, headers
        self.sessions = []
        for n in range(WRITERS):
            created = httpx2.post(
                server.api_url + "/sessions/", json={"state": {"письменник": n}}, headers=headers
            )
            self.sessions.append(created.json()["id"])
        self.acknowledged = {session_id: 0 for session_id in self.sessions}
        self._stop = threading.Event()
        self._pool = concurrent.futures.ThreadPoolExecutor(WRITERS)
        self._running = [self._pool.submit(self._write, s) for s in self.sessions]

    def _write(self, session_id):
        with httpx2.Client(timeout=30) as http:
            while not self._stop.is_set():
                rev = self.acknowledged[session_id] + 1
                response = http.patch(
                    f"{self.server.api_url}/sessions/{session_id}/diff/",
                    json={"ops": [{"op": "add", "path": f"/k{rev}", "value": f"запис {rev}"}]},
                    headers={**self.headers, "If-Match": f'"{rev - 1}"'},
                )
                assert response.status_code == 200, response.text
                self.acknowledged[session_id] = response.json()["rev"]

    def wait_for(self, writes):
        while min(self.acknowledged.values()) < writes:
            time.sleep(0.01)

    def stop(self):
        self._stop.set()
        for running in self._running:
            running.result()
        self._pool.shutdown()


@pytest.mark.slow(14)
@pytest.mark.parametrize("destination", ["path", "s3"])
def test_a_backup_under_write_load_restores_every_acknowledged_write(
    request, tmp_path, sqlite_template, destination
):
    live = tmp_path / "live.db"
    shutil.copyfile(sqlite_template, live)
    settings = Settings(
        database_url=f"sqlite:///{live}",
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
    )
    env = {**server_env(settings)}
    if destination == "s3":
        bucket = request.getfixturevalue("s3_bucket")
        env["SOLO_S3_ENDPOINT_URL"] = request.getfixturevalue("moto").endpoint_url
        target = f"s3://{bucket}/резервні/solo.db"
    else:
        target = str(tmp_path / "резервні" / "solo.db")
    headers = SpecCheckedClient.token_headers(settings, "олена")
    server = LiveServer(env, workers=2, log_path=tmp_path / "live.log")
    # A long reader (an export, say) keeps SQLite from checkpointing past its snapshot:
    # the newest writes are then in the write-ahead log only, where a copy of the database
    # file would miss them.
    reader = sqlite3.connect(live, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM sessions").fetchone()
        writers = Writers(server, headers)
        writers.wait_for(20)
        before = dict(writers.acknowledged)
        backed_up = solo("backup", target, **env)
        writers.wait_for(max(before.values()) + 20)  # writes went on past the backup
        writers.stop()
        final = dict(writers.acknowledged)
    finally:
        reader.close()
        server.stop()
    assert backed_up.returncode == 0, backed_up.stderr
    assert all(final[s] > before[s] for s in final)

    fresh = tmp_path / "fresh" / "solo.db"
    fresh_env = {**env, "SOLO_DATABASE_URL": f"sqlite:///{fresh}"}
    restored = solo("restore-backup", target, **fresh_env)
    assert restored.returncode == 0, restored.stderr
    with sqlite3.connect(fresh) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    server = LiveServer(fresh_env, log_path=tmp_path / "fresh.log")
    try:
        for n, session_id in enumerate(writers.sessions):
            url = f"{server.api_url}/sessions/{session_id}/"
            document = httpx2.get(url, headers=headers).json()
            rev = document["rev"]
            assert before[session_id] <= rev <= final[session_id]
            assert document["state"] == {
                "письменник": n,
                **{f"k{r}": f"запис {r}" for r in range(1, rev + 1)},
            }
            ahead = httpx2.get(f"{url}changes/?since={final[session_id]}", headers=headers)
            assert (ahead.status_code, ahead.headers["ETag"]) == (409, f'"{rev}"')
            assert ahead.json() == {
                "error": "ahead_of_server",
                "request_id": ahead.headers["X-Request-ID"],
                "message": (
                    "The session is behind the rev you hold (the server was restored): refetch it."
                ),
                "rev": rev,
            }
    finally:
        server.stop()


def test_backup_is_for_the_embedded_database_only(tmp_path):
    result = solo("backup", str(tmp_path / "x.db"), SOLO_DATABASE_URL="postgresql+psycopg://x@h/d")
    assert result.returncode == 1
    assert last_line(result.stderr) == (
        "solo: solo backup copies the embedded SQLite database; back up PostgreSQL with "
        "pg_dump or point-in-time recovery (see the README)"
    )
    assert not (tmp_path / "x.db").exists()


def test_restore_refuses_a_file_that_is_not_a_solo_database(tmp_path):
    other = tmp_path / "інша.db"
    with sqlite3.connect(other) as database:
        database.execute("CREATE TABLE нотатки (текст TEXT)")
    target = tmp_path / "solo.db"
    result = solo("restore-backup", str(other), SOLO_DATABASE_URL=f"sqlite:///{target}")
    assert result.returncode == 1
    assert last_line(result.stderr) == f"solo: {other} is not a Solo database"
    assert not target.exists()
    garbage = tmp_path / "сміття.db"
    garbage.write_bytes(b"not a database at all" * 100)
    result = solo("restore-backup", str(garbage), SOLO_DATABASE_URL=f"sqlite:///{target}")
    assert result.returncode == 1
    assert last_line(result.stderr).startswith(f"solo: {garbage} is not an SQLite database")
