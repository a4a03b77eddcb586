"""No lost update: several server processes on one database, many racing clients."""

import collections
import concurrent.futures
import contextlib
import shutil
import threading
import uuid

import httpx2
import pytest

from solo.settings import Settings
from tests.conftest import (
    BACKENDS,
    TEST_JWT_SECRET,
    UNTRIPPABLE_RATES,
    postgres_database,
    server_env,
)
from tests.support.clients import SpecCheckedClient
from tests.support.server import live_servers

CLIENTS = 12
ROUNDS = 8
WRITES_PER_CLIENT = 15


@pytest.fixture(scope="module", params=BACKENDS)
def servers(request, tmp_path_factory):
    """Two `solo serve` of two worker processes each: four processes on one database,
    shared by this module's tests (each writes as a user of its own), and their folder."""
    folder = tmp_path_factory.mktemp(f"concurrency-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            shutil.copyfile(request.getfixturevalue("sqlite_template"), folder / "solo.db")
            database_url = f"sqlite:///{folder}/solo.db"
        else:
            admin = request.getfixturevalue("postgres_admin")
            database_url = stack.enter_context(postgres_database(admin))
        settings = Settings(
            database_url=database_url,
            storage_url=f"file://{folder}/snapshots",
            jwt_secret=TEST_JWT_SECRET,
            **UNTRIPPABLE_RATES,
        )
        env = server_env(settings)
        started = stack.enter_context(live_servers(env, count=2, log_dir=folder, workers=2))
        yield started, settings, folder


@pytest.fixture
def user() -> str:
    """A user of this test's own."""
    return f"олена-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def headers(servers, user):
    _started, settings, _folder = servers
    return SpecCheckedClient.token_headers(settings, user)


def _create(server, headers) -> str:
    response = httpx2.post(server.api_url + "/sessions/", json={"state": {}}, headers=headers)
    assert response.status_code == 201
    return response.json()["id"]


@pytest.mark.slow(12)
def test_clients_racing_on_one_etag_exactly_one_wins_each_round(servers, headers):
    started, _settings, _folder = servers
    session_id = _create(started[0], headers)
    barrier = threading.Barrier(CLIENTS)

    def race(client_index: int, rev: int) -> int:
        server = started[client_index % len(started)]
        op = [{"op": "add", "path": f"/раунд{rev}", "value": client_index}]
        with httpx2.Client(timeout=30) as http:
            barrier.wait()
            response = http.patch(
                f"{server.api_url}/sessions/{session_id}/diff/",
                json={"ops": op},
                headers={**headers, "If-Match": f'"{rev}"'},
            )
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        for rev in range(ROUNDS):
            statuses = collections.Counter(pool.map(race, range(CLIENTS), [rev] * CLIENTS))
            assert statuses == {200: 1, 412: CLIENTS - 1}, statuses

    final = httpx2.get(f"{started[1].api_url}/sessions/{session_id}/", headers=headers).json()
    assert final["rev"] == ROUNDS
    assert sorted(final["state"]) == sorted(f"раунд{rev}" for rev in range(ROUNDS))


@pytest.mark.slow(6)
def test_clients_retrying_on_412_lose_no_acknowledged_write(servers, headers):
    started, _settings, _folder = servers
    session_id = _create(started[0], headers)

    def writer(client_index: int) -> tuple[list[str], int]:
        server = started[client_index % len(started)]
        url = f"{server.api_url}/sessions/{session_id}/"
        acknowledged, conflicts = [], 0
        with httpx2.Client(timeout=30) as http:
            etag = http.get(url, headers=headers).headers["ETag"]
            for n in range(WRITES_PER_CLIENT):
                key = f"клієнт{client_index}-запис{n}"
                op = [{"op": "add", "path": f"/{key}", "value": n}]
                while True:
                    response = http.patch(
                        url + "diff/", json={"ops": op}, headers={**headers, "If-Match": etag}
                    )
                    etag = response.headers["ETag"]
                    if response.status_code == 200:
                        acknowledged.append(key)
                        break
                    assert response.status_code == 412, response.text
                    conflicts += 1
        return acknowledged, conflicts

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(writer, range(CLIENTS)))

    acknowledged = [key for keys, _ in results for key in keys]
    final = httpx2.get(f"{started[0].api_url}/sessions/{session_id}/", headers=headers).json()
    assert final["rev"] == len(acknowledged) == CLIENTS * WRITES_PER_CLIENT
    assert set(final["state"]) == set(acknowledged)
    assert sum(conflicts for _, conflicts in results) > 0, "the clients never actually raced"


def test_one_idempotency_key_from_many_threads_on_two_servers_writes_one_snapshot(
    servers, user, headers
):
    started, _settings, folder = servers
    session_id = _create(started[0], headers)
    barrier = threading.Barrier(CLIENTS)

    def post(client_index: int) -> tuple[int, str | None, dict]:
        server = started[client_index % len(started)]
        with httpx2.Client(timeout=30) as http:
            barrier.wait()
            response = http.post(
                f"{server.api_url}/sessions/{session_id}/snapshot/",
                headers={**headers, "Idempotency-Key": "autosave-42"},
            )
        return response.status_code, response.headers.get("Idempotent-Replayed"), response.json()

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(post, range(CLIENTS)))

    written = sum(
        f"snapshot written key=solo/{user}/{session_id}/" in line
        for index in range(len(started))
        for line in (folder / f"server-{index}.log").read_text().splitlines()
    )
    assert written == 1
    firsts = [body for status, replayed, body in answers if status == 201 and replayed is None]
    assert len(firsts) == 1
    for status, _replayed, body in answers:
        if status == 409:
            assert body["error"] == "idempotency_in_progress"
        else:
            assert (status, body) == (201, firsts[0])


def test_writers_with_if_match_any_on_one_session_never_fail_and_lose_nothing(servers, headers):
    started, _settings, _folder = servers
    session_id = _create(started[0], headers)
    writers, writes_each = 16, 20

    def writer(index: int) -> list[int]:
        server = started[index % len(started)]
        url = f"{server.api_url}/sessions/{session_id}/diff/"
        statuses = []
        with httpx2.Client(timeout=30) as http:
            for n in range(writes_each):
                op = [{"op": "add", "path": f"/письменник{index}-{n}", "value": n}]
                response = http.patch(url, json={"ops": op}, headers={**headers, "If-Match": "*"})
                statuses.append(response.status_code)
        return statuses

    with concurrent.futures.ThreadPoolExecutor(writers) as pool:
        statuses = [status for batch in pool.map(writer, range(writers)) for status in batch]
    assert collections.Counter(statuses) == {200: writers * writes_each}
    expected = {f"письменник{i}-{n}" for i in range(writers) for n in range(writes_each)}
    for server in started:
        final = httpx2.get(f"{server.api_url}/sessions/{session_id}/", headers=headers).json()
        assert final["rev"] == writers * writes_each
        assert set(final["state"]) == expected


def test_each_server_reads_what_the_other_wrote(servers, headers):
    started, _settings, _folder = servers
    session_id = _create(started[0], headers)
    expected = {}
    with httpx2.Client(timeout=30) as http:
        for rev in range(12):
            writer, reader = started[rev % 2], started[(rev + 1) % 2]
            op = [{"op": "add", "path": f"/крок{rev}", "value": rev}]
            written = http.patch(
                f"{writer.api_url}/sessions/{session_id}/diff/",
                json={"ops": op},
                headers={**headers, "If-Match": f'"{rev}"'},
            )
            assert written.status_code == 200
            expected[f"крок{rev}"] = rev
            for _ in range(2):  # both worker processes of the reading server, most likely
                read = http.get(f"{reader.api_url}/sessions/{session_id}/", headers=headers)
                assert (read.json()["rev"], read.json()["state"]) == (rev + 1, expected)


@pytest.mark.slow(5)
def test_snapshots_racing_deletes_leave_no_object_and_no_500(servers, user, headers):
    started, _settings, folder = servers
    barrier = threading.Barrier(2)
    trials, statuses, urls = 15, collections.Counter(), []

    def snapshot(server, session_id):
        with httpx2.Client(timeout=30) as http:
            barrier.wait()
            return http.post(f"{server.api_url}/sessions/{session_id}/snapshot/", headers=headers)

    def delete(server, session_id):
        with httpx2.Client(timeout=30) as http:
            barrier.wait()
            return http.delete(
                f"{server.api_url}/sessions/{session_id}/", headers={**headers, "If-Match": "*"}
            )

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        for trial in range(trials):
            session_id = _create(started[trial % 2], headers)
            first = httpx2.post(
                f"{started[0].api_url}/sessions/{session_id}/snapshot/", headers=headers
            )
            urls.append(first.json()["url"])
            httpx2.patch(
                f"{started[1].api_url}/sessions/{session_id}/diff/",
                json={"ops": [{"op": "add", "path": "/спроба", "value": trial}]},
                headers={**headers, "If-Match": "*"},
            )
            snapshotted = pool.submit(snapshot, started[trial % 2], session_id)
            deleted = pool.submit(delete, started[(trial + 1) % 2], session_id)
            assert deleted.result().status_code == 204, deleted.result().text
            statuses[snapshotted.result().status_code] += 1

    assert set(statuses) <= {201, 404}, statuses
    root = folder / "snapshots" / "solo" / user
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) == []
    for url in urls:
        assert httpx2.get(url, timeout=10).status_code == 404
