"""kill -9 in the middle of writes loses no acknowledged write and leaves a loadable session."""

import concurrent.futures
import threading
import time
from collections.abc import Callable

import httpx2
import pytest

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
    session_urls: list[str], headers: dict, stop_server: Callable[[], None], timeout: float
) -> list[tuple[list[str], list[int]]]:
    """WRITERS writers (writer i on session i modulo their number) for WRITING_SECONDS,
    then the server stopped under them."""
    done = threading.Event()
    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        batches = [
            pool.submit(
                writer, session_urls[index % len(session_urls)], headers, index, done, timeout
            )
            for index in range(WRITERS)
        ]
        time.sleep(WRITING_SECONDS)
        stop_server()
        done.set()
        return [batch.result() for batch in batches]


def create_sessions(server: LiveServer, headers: dict, count: int) -> list[str]:
    urls = []
    for _ in range(count):
        created = httpx2.post(f"{server.api_url}/sessions/", json={"state": {}}, headers=headers)
        urls.append(f"{server.api_url}/sessions/{created.json()['id']}/")
    return urls


def read_after_restart(settings, tmp_path, stopped: LiveServer, session_urls: list[str], headers):
    restarted = LiveServer(server_env(settings), log_path=tmp_path / "second.log")
    try:
        with httpx2.Client(timeout=10) as http:
            return [
                http.get(url.replace(stopped.api_url, restarted.api_url), headers=headers).json()
                for url in session_urls
            ]
    finally:
        restarted.stop()


# Writers on one session take turns on its lock; writers on a session each meet in the
# same group commit (on SQLite), so the server dies with a batch half done.
SESSIONS = pytest.mark.parametrize("sessions", [1, WRITERS], ids=["one session", "one each"])


@pytest.mark.slow(9)
@SESSIONS
def test_a_killed_server_loses_no_acknowledged_write_and_applies_only_those_in_flight(
    database_url, tmp_path, sessions
):
    """Every acknowledged write is kept; of the others, only each writer's last (the one
    in flight when the server died) may have been applied."""
    settings = settings_for(database_url, tmp_path)
    headers = SpecCheckedClient.token_headers(settings, "олена")
    server = LiveServer(server_env(settings), log_path=tmp_path / "first.log")
    session_urls = create_sessions(server, headers, sessions)

    results = write_while_stopping(session_urls, headers, server.kill, timeout=10)
    acknowledged = [key for keys, _ in results for key in keys]

    read = read_after_restart(settings, tmp_path, server, session_urls, headers)
    kept = {key for session in read for key in session["state"]}
    assert len(acknowledged) > WRITERS, "the writers never got going"
    assert set(acknowledged) <= kept
    assert len(kept - set(acknowledged)) <= WRITERS
    for session in read:
        assert session["rev"] == len(session["state"])


@pytest.mark.slow(8)
@SESSIONS
def test_sigterm_lets_writes_in_flight_finish_and_loses_none(database_url, tmp_path, sessions):
    """Every write the server applied was answered, and every answered one is kept: with
    kill -9 (above) some applied writes go unanswered; with SIGTERM none may."""
    settings = settings_for(database_url, tmp_path)
    headers = SpecCheckedClient.token_headers(settings, "олена")
    server = LiveServer(server_env(settings), log_path=tmp_path / "first.log")
    session_urls = create_sessions(server, headers, sessions)

    results = write_while_stopping(session_urls, headers, server.stop, timeout=30)
    acknowledged = [key for keys, _ in results for key in keys]

    read = read_after_restart(settings, tmp_path, server, session_urls, headers)
    assert len(acknowledged) > WRITERS, "the writers never got going"
    assert [status for _, other in results for status in other] == []
    assert {key for session in read for key in session["state"]} == set(acknowledged)
    assert sum(session["rev"] for session in read) == len(acknowledged)
