"""kill -9 in the middle of writes loses no acknowledged write and leaves a loadable session."""

import concurrent.futures
import threading
import time

import httpx2

from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.clients import SpecCheckedClient
from tests.support.server import LiveServer

WRITERS = 8
WRITING_SECONDS = 1.5


def test_a_killed_server_loses_no_acknowledged_write(database_url, tmp_path):
    settings = Settings(
        database_url=database_url,
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
    )
    headers = SpecCheckedClient.token_headers(settings, "олена")
    server = LiveServer(server_env(settings), log_path=tmp_path / "first.log")
    session_url = f"{server.api_url}/sessions/"
    created = httpx2.post(session_url, json={"state": {"старт": True}}, headers=headers)
    session_url += created.json()["id"] + "/"
    killed = threading.Event()

    def writer(index: int) -> list[str]:
        acknowledged = []
        with httpx2.Client(timeout=10) as http:
            for n in range(10_000):
                key = f"письменник{index}-запис{n}"
                try:
                    response = http.patch(
                        session_url + "diff/",
                        json={"ops": [{"op": "add", "path": f"/{key}", "value": n}]},
                        headers={**headers, "If-Match": "*"},
                    )
                except httpx2.TransportError:
                    return acknowledged
                if response.status_code == 200:
                    acknowledged.append(key)
                if killed.is_set():
                    return acknowledged
        return acknowledged

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        batches = [pool.submit(writer, index) for index in range(WRITERS)]
        time.sleep(WRITING_SECONDS)
        server.kill()
        killed.set()
        acknowledged = [key for batch in batches for key in batch.result()]

    restarted = LiveServer(server_env(settings), log_path=tmp_path / "second.log")
    try:
        url = session_url.replace(server.api_url, restarted.api_url)
        session = httpx2.get(url, headers=headers, timeout=10).json()
    finally:
        restarted.stop()
    assert len(acknowledged) > WRITERS, "the writers never got going"
    assert set(acknowledged) <= set(session["state"])
    assert session["rev"] == len(session["state"]) - 1
    assert session["rev"] >= len(acknowledged)


def test_sigterm_lets_writes_in_flight_finish_and_loses_none(database_url, tmp_path):
    """Every write the server applied was answered, and every answered one is kept: with
    kill -9 (above) some applied writes go unanswered; with SIGTERM none may."""
    settings = Settings(
        database_url=database_url,
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
    )
    headers = SpecCheckedClient.token_headers(settings, "олена")
    server = LiveServer(server_env(settings), log_path=tmp_path / "first.log")
    created = httpx2.post(f"{server.api_url}/sessions/", json={"state": {}}, headers=headers)
    session_url = f"{server.api_url}/sessions/{created.json()['id']}/"
    stopping = threading.Event()

    def writer(index: int) -> tuple[list[str], list[int]]:
        acknowledged, other = [], []
        with httpx2.Client(timeout=30) as http:
            for n in range(10_000):
                key = f"письменник{index}-запис{n}"
                try:
                    response = http.patch(
                        session_url + "diff/",
                        json={"ops": [{"op": "add", "path": f"/{key}", "value": n}]},
                        headers={**headers, "If-Match": "*"},
                    )
                except httpx2.TransportError:
                    return acknowledged, other
                if response.status_code == 200:
                    acknowledged.append(key)
                else:
                    other.append(response.status_code)
                if stopping.is_set():
                    return acknowledged, other
        return acknowledged, other

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        batches = [pool.submit(writer, index) for index in range(WRITERS)]
        time.sleep(WRITING_SECONDS)
        server.stop()
        stopping.set()
        results = [batch.result() for batch in batches]
    acknowledged = [key for keys, _ in results for key in keys]

    restarted = LiveServer(server_env(settings), log_path=tmp_path / "second.log")
    try:
        url = session_url.replace(server.api_url, restarted.api_url)
        session = httpx2.get(url, headers=headers, timeout=10).json()
    finally:
        restarted.stop()
    assert len(acknowledged) > WRITERS, "the writers never got going"
    assert [status for _, other in results for status in other] == []
    assert set(session["state"]) == set(acknowledged)
    assert session["rev"] == len(acknowledged)
