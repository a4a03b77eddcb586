"""The servers under test: a fresh database, `solo serve` and the plain baseline on loopback."""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx2
import sqlalchemy as sa
from sqlalchemy.engine import make_url

BIN = pathlib.Path(sys.executable).parent
ROOT = pathlib.Path(__file__).resolve().parents[1]
API = "/api/v1/solo"
STARTUP_SECONDS = 60
STOP_SECONDS = 20
MIGRATE_SECONDS = 120
SECRET = "bench-secret-0123456789abcdef0123456789"
FAST = "100000000/minute"


class Server:
    """A server process on 127.0.0.1, ready once `ready_path` answers 200."""

    def __init__(self, argv: list[str], env: dict[str, str], ready_path: str, log: pathlib.Path):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("SOLO_", "BENCH_"))}
        self._log = log.open("ab")
        self._process = subprocess.Popen(
            [*argv, "--port", str(self.port)],
            env={**clean, **env},
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            self._wait_ready(ready_path)
        except BaseException:
            # Not ready, or interrupted (Ctrl-C, SIGTERM) while it started: nobody else
            # holds it yet to stop it.
            self.stop()
            raise

    def _wait_ready(self, ready_path: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and self._process.poll() is None:
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(self.base_url + ready_path, timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self._process.args[0]} did not become ready; see {self._log.name}")

    @property
    def pid(self) -> int:
        return self._process.pid

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()


def stop_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so servers stop and databases are dropped."""
    signal.signal(signal.SIGTERM, _interrupted)


def _interrupted(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


def solo_env(database_url: str, folder: pathlib.Path) -> dict[str, str]:
    limits = {f"SOLO_RATE_LIMIT_{group}": FAST for group in ("WRITE", "BEACON", "SNAPSHOT", "READ")}
    return {
        "SOLO_DATABASE_URL": database_url,
        "SOLO_STORAGE_URL": f"file://{folder}/snapshots",
        "SOLO_JWT_SECRET": SECRET,
        **limits,
    }


def start_solo(
    database_url: str, workers: int, folder: pathlib.Path, settings: dict[str, str] | None = None
) -> Server:
    argv = [str(BIN / "solo"), "serve", "--workers", str(workers)]
    env = {**solo_env(database_url, folder), **(settings or {})}
    return Server(argv, env, API + "/readyz", folder / "solo.log")


def start_baseline(database_url: str, workers: int, folder: pathlib.Path) -> Server:
    argv = [
        *(sys.executable, "-m", "bench.baseline_app"),
        *("--workers", str(workers), "--host", "127.0.0.1"),
    ]
    env = {"BENCH_DATABASE_URL": database_url, "BENCH_JWT_SECRET": SECRET}
    return Server(argv, env, "/healthz", folder / "baseline.log")


@contextlib.contextmanager
def fresh_database(kind: str, postgres_url: str, folder: pathlib.Path) -> Iterator[str]:
    """A new SQLite file, or a new PostgreSQL database migrated with `solo migrate`;
    either is gone afterwards."""
    if kind == "sqlite":
        path = folder / "solo.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        return
    name = f"solo_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(make_url(postgres_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as db:
            db.execute(sa.text(f'CREATE DATABASE "{name}"'))
        url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
        subprocess.run(
            [str(BIN / "solo"), "migrate"],
            env={**os.environ, **solo_env(url, folder)},
            check=True,
            capture_output=True,
            timeout=MIGRATE_SECONDS,
        )
        yield url
    finally:
        with admin.connect() as db:
            db.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
