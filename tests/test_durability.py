"""Acknowledged means synced, measured with strace on a live server (SQLite): a write that
comes alone is synced before its answer, and writes that come together share syncs, at
least one per group commit."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import pathlib
import re
import shutil
import subprocess
import time

import httpx2
import pytest

from solo import limits
from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.clients import SpecCheckedClient
from tests.support.server import LiveServer

STRACE = shutil.which("strace") or "/usr/bin/strace"
SYNC = re.compile(r"\b(fsync|fdatasync)\(")
BATCHES = re.compile(r"^solo_group_commit_writes_(count|sum) (\S+)$", re.MULTILINE)


@dataclasses.dataclass
class Traced:
    """strace on every thread of a server process, counting its syncs."""

    pid: int
    output: pathlib.Path

    def __post_init__(self) -> None:
        threads = [f"-p{task.name}" for task in pathlib.Path(f"/proc/{self.pid}/task").iterdir()]
        command = [STRACE, "-f", "-qq", "-e", "trace=fsync,fdatasync", "-o", str(self.output)]
        self._process = subprocess.Popen([*command, *threads], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while "TracerPid:\t0" in pathlib.Path(f"/proc/{self.pid}/status").read_text():
            assert time.monotonic() < deadline, "strace did not attach"
            time.sleep(0.01)

    def syncs(self) -> int:
        time.sleep(0.2)  # strace writes its lines as it goes
        return len(SYNC.findall(self.output.read_text()))

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(10)


@pytest.fixture
def settings(sqlite_template, tmp_path) -> Settings:
    """SQLite's alone: group commit and its syncs are SQLite's (PostgreSQL syncs its own)."""
    shutil.copyfile(sqlite_template, tmp_path / "solo.db")
    return Settings(
        database_url=f"sqlite:///{tmp_path}/solo.db",
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
    )


@pytest.fixture
def server(settings, tmp_path):
    server = LiveServer(server_env(settings), log_path=tmp_path / "server.log")
    yield server
    server.stop()


def diff(http: httpx2.Client, url: str, headers: dict, n: int) -> int:
    ops = [{"op": "add", "path": f"/запис{n}", "value": n}]
    return http.patch(
        url + "diff/", json={"ops": ops}, headers={**headers, "If-Match": "*"}
    ).status_code


def batches(server: LiveServer) -> tuple[int, int]:
    """(group commits, writes they committed) so far, from /metrics."""
    found = dict(BATCHES.findall(httpx2.get(server.base_url + "/metrics").text))
    return int(float(found["count"])), int(float(found["sum"]))


def test_writes_one_at_a_time_are_synced_one_at_a_time(server, settings, tmp_path):
    headers = SpecCheckedClient.token_headers(settings, "олена")
    with httpx2.Client(timeout=10) as http:
        created = http.post(f"{server.api_url}/sessions/", json={"state": {}}, headers=headers)
        url = f"{server.api_url}/sessions/{created.json()['id']}/"
        traced = Traced(server.pid, tmp_path / "strace.out")
        try:
            for n in range(20):
                assert diff(http, url, headers, n) == 200
            assert traced.syncs() >= 20
        finally:
            traced.stop()


def test_writes_that_come_together_share_syncs(server, settings, tmp_path):
    headers = SpecCheckedClient.token_headers(settings, "олена")
    with httpx2.Client(timeout=10) as http:
        urls = []
        for _ in range(16):
            created = http.post(f"{server.api_url}/sessions/", json={"state": {}}, headers=headers)
            urls.append(f"{server.api_url}/sessions/{created.json()['id']}/")
    commits_before, writes_before = batches(server)
    traced = Traced(server.pid, tmp_path / "strace.out")
    try:

        def writer(url: str) -> list[int]:
            with httpx2.Client(timeout=30) as http:
                return [diff(http, url, headers, n) for n in range(8)]

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            statuses = [status for done in pool.map(writer, urls) for status in done]
        syncs = traced.syncs()
    finally:
        traced.stop()
    time.sleep(limits.METRICS_CACHE_SECONDS)  # past the exposition kept from before the writes
    commits_after, writes_after = batches(server)
    commits, writes = commits_after - commits_before, writes_after - writes_before
    assert statuses == [200] * 128
    assert writes == 128
    assert commits < writes  # the writes shared commits
    assert syncs >= commits  # and each commit synced
