"""kill -9 in the middle of writes loses no acknowledged write and leaves a loadable session."""

import concurrent.futures
import threading
import time
from collections.abc import Callable

import httpx2

from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.clients import SpecCheckedClient
from tests.support.server import LiveServer

WRITERS = 8
WRITING_SECONDS = 1.5


def settings_for(database_url: str, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
    )


def writer(
    session_url: str, headers: dict, index: int, done: threading.Event, timeout: float
) -> tuple[list[str], list[int]]:
    """Adds keys with `If-Match: *` until `done` or the server goes: the keys answered 200,
    and the statuses of any other answers."""
    acknowledged, other = [], []
    with httpx2.Client(timeout=timeout) as http:
        for n in range(10_000):
            key = f"письменник{index}-запис{n}"
            try:
                response = http.patch(
                    session_url + "diff/",
                    json={"ops": [{"op": "add", "path": f"/{key}", "value": n}]},
                    headers={**headers, "If-Match": "*"},
                )
            except httpx2.TransportError:
                break
            if response.status_code == 200:
                acknowledged.append(key)
            else:
                other.append(response.status_code)
            if done.is_set():
                break
    return acknowledged, other


def write_while_stopping(
    session_url: str, headers: dict, stop_server: Callable[[], None], timeout: float
) -> list[tuple[list[str], list[int]]]:
    """WRITERS writers for WRITING_SECONDS, then the server stopped under them."""
    done = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        batches = [
            pool.submit(writer, session_url, headers, index, done, timeout)
            for index in range(WRITERS)
        ]
        time.sleep(WRITING_SECONDS)
        stop_server()
        done.set()
        return [batch.result() for batch in batches]


def read_after_restart(settings, tmp_path, stopped: LiveServer, session_url: str, headers):
    restarted = LiveServer(server_env(settings), log_path=tmp_path / "second.log")
    try:
        url = session_url.replace(stopped.api_url, restarted.api_url)
        return httpx2.get(url, headers=headers, timeout=10).json()
    finally:
        restarted.stop()


def test_a_killed_server_loses_no_acknowledged_write(database_url, tmp_path):
    settings = settings_for(database_url, tmp_path)
    headers = SpecCheckedClient.token_headers(settings, "олена")
    server = LiveServer(server_env(settings), log_path=tmp_path / "first.log")
    session_url = f"{server.api_url}/sessions/"
    created = httpx2.post(session_url, json={"state": {"старт": True}}, headers=headers)
    session_url += created.json()["id"] + "/"

    results = write_while_stopping(session_url, headers, server.kill, timeout=10)
    acknowledged = [key for keys, _ in results for key in keys]

    session = read_after_restart(settings, tmp_path, server, session_url, headers)
    assert len(acknowledged) > WRITERS, "the writers never got going"
    assert set(acknowledged) <= set(session["state"])
    assert session["rev"] == len(session["state"]) - 1
    assert session["rev"] >= len(acknowledged)


def test_sigterm_lets_writes_in_flight_finish_and_loses_none(database_url, tmp_path):
    """Every write the server applied was answered, and every answered one is kept: with
    kill -9 (above) some applied writes go unanswered; with SIGTERM none may."""
    settings = settings_for(database_url, tmp_path)
    headers = SpecCheckedClient.token_headers(settings, "олена")
    server = LiveServer(server_env(settings), log_path=tmp_path / "first.log")
    created = httpx2.post(f"{server.api_url}/sessions/", json={"state": {}}, headers=headers)
    session_url = f"{server.api_url}/sessions/{created.json()['id']}/"

    results = write_while_stopping(session_url, headers, server.stop, timeout=30)
    acknowledged = [key for keys, _ in results for key in keys]

    session = read_after_restart(settings, tmp_path, server, session_url, headers)
    assert len(acknowledged) > WRITERS, "the writers never got going"
    assert [status for _, other in results for status in other] == []
    assert set(session["state"]) == set(acknowledged)
    assert session["rev"] == len(acknowledged)
