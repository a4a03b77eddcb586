"""Every keyed edit lands exactly once, whatever the network and the server processes do:
retry storms over two servers, a retry after the answering process was killed, answers
dropped by a proxy after the server had them, and 16 writers rebased on one session."""

import concurrent.futures
import copy
import threading
import uuid

import httpx2
import pytest

from tests.support.clients import SpecCheckedClient
from tests.support.fault_proxy import FaultProxy
from tests.support.patches import reference
from tests.support.server import LiveServer, live_servers

TIMEOUT = 30


@pytest.fixture
def two_servers(servers_environment, tmp_path):
    env, settings = servers_environment
    with live_servers(env, count=2, log_dir=tmp_path) as started:
        yield started, settings


def _headers(settings, **more):
    return {**SpecCheckedClient.token_headers(settings, "олена"), **more}


def _create(server, settings, state) -> str:
    response = httpx2.post(
        server.api_url + "/sessions/", json={"state": state}, headers=_headers(settings)
    )
    assert response.status_code == 201
    return response.json()["id"]


def _state(server, settings, session_id) -> dict:
    response = httpx2.get(f"{server.api_url}/sessions/{session_id}/", headers=_headers(settings))
    return response.json()["state"]


def _append(server, settings, session_id, key, value, if_match="*"):
    return httpx2.patch(
        f"{server.api_url}/sessions/{session_id}/diff/",
        json={"ops": [{"op": "add", "path": "/блоки/-", "value": value}]},
        headers=_headers(settings, **{"If-Match": if_match, "Idempotency-Key": key}),
        timeout=TIMEOUT,
    )


def test_a_keyed_write_sent_five_times_at_once_and_five_times_after_lands_once(two_servers):
    servers, settings = two_servers
    session_id = _create(servers[0], settings, {"блоки": []})
    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        at_once = list(
            pool.map(
                lambda n: _append(servers[n % 2], settings, session_id, "storm", "одна"),
                range(5),
            )
        )
    after = [_append(servers[n % 2], settings, session_id, "storm", "одна") for n in range(5)]
    answers = at_once + after
    # Each is the first answer, again, or (a repeat that met the first running in the same
    # process) 409 with Retry-After; never a second write.
    assert {r.status_code for r in answers} <= {200, 409}
    applied = [r for r in answers if r.status_code == 200]
    assert {r.json()["rev"] for r in applied} == {1}
    assert sum("Idempotent-Replayed" not in r.headers for r in applied) == 1
    assert all(r.headers["Retry-After"] == "1" for r in answers if r.status_code == 409)
    assert all(r.headers.get("Idempotent-Replayed") == "true" for r in after)
    assert _state(servers[1], settings, session_id) == {"блоки": ["одна"]}


def test_a_retry_after_the_answering_process_was_killed_replays_its_answer(two_servers):
    servers, settings = two_servers
    session_id = _create(servers[0], settings, {"блоки": []})
    first = _append(servers[0], settings, session_id, "before-kill", "вціліла", '"0"')
    assert first.status_code == 200
    servers[0].kill()
    retried = _append(servers[1], settings, session_id, "before-kill", "вціліла", '"0"')
    assert (retried.status_code, retried.json()) == (200, first.json())
    assert retried.headers["Idempotent-Replayed"] == "true"
    assert _state(servers[1], settings, session_id) == {"блоки": ["вціліла"]}


EDITS = 500


@pytest.fixture
def behind_a_proxy(servers_environment, tmp_path):
    env, settings = servers_environment
    server = LiveServer(env, workers=2, log_path=tmp_path / "server.log")
    proxy = FaultProxy(server.port)
    try:
        yield server, proxy, settings
    finally:
        proxy.stop()
        server.stop()


@pytest.mark.slow(14)
def test_edits_whose_answers_a_proxy_drops_land_once_each_in_order(behind_a_proxy):
    server, proxy, settings = behind_a_proxy
    session_id = _create(server, settings, {"блоки": []})
    proxy.drop_rate = 0.3
    rev, retries = 0, 0
    with httpx2.Client(base_url=proxy.url + "/api/v1/solo", timeout=TIMEOUT) as http:
        for n in range(EDITS):
            key, answer = str(uuid.uuid4()), None
            while answer is None:
                try:
                    answer = http.patch(
                        f"/sessions/{session_id}/diff/",
                        json={"ops": [{"op": "add", "path": "/блоки/-", "value": f"правка {n}"}]},
                        headers=_headers(
                            settings, **{"If-Match": f'"{rev}"', "Idempotency-Key": key}
                        ),
                    )
                except httpx2.TransportError:
                    retries += 1  # the server may well have applied it: the key decides
            assert answer.status_code == 200, answer.text
            rev = answer.json()["rev"]
    dropped = [entry for entry in proxy.writes() if entry.outcome == "dropped"]
    assert rev == EDITS and retries == len(dropped) > EDITS // 5
    assert _state(server, settings, session_id) == {"блоки": [f"правка {n}" for n in range(EDITS)]}


WRITERS = 16
WRITES_EACH = 12


@pytest.mark.slow(6)
def test_sixteen_writers_rebased_on_one_session_never_fail_and_lose_nothing(two_servers):
    servers, settings = two_servers
    start = {"блоки": [{"автор": w, "правок": 0} for w in range(WRITERS)]}
    session_id = _create(servers[0], settings, start)
    refusals: list[int] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        # Each writer edits its own item of the shared array at the index it has in the
        # writer's copy, and inserts an item at the front, which moves everyone's items:
        # only the server's rebase keeps the edits on the right items.
        base, local = 0, copy.deepcopy(start)
        with httpx2.Client(base_url=servers[w % 2].api_url, timeout=TIMEOUT) as http:
            for n in range(1, WRITES_EACH + 1):
                mine = next(i for i, b in enumerate(local["блоки"]) if b.get("автор") == w)
                ops = [
                    {"op": "replace", "path": f"/блоки/{mine}/правок", "value": n},
                    {"op": "add", "path": "/блоки/0", "value": {"від": w, "номер": n}},
                ]
                answer = http.patch(
                    f"/sessions/{session_id}/diff/",
                    json={"ops": ops},
                    headers=_headers(
                        settings,
                        **{
                            "If-Match": "*",
                            "Solo-Base-Rev": str(base),
                            "Idempotency-Key": f"{w}-{n}",
                        },
                    ),
                )
                if answer.status_code != 200:
                    with lock:
                        refusals.append(answer.status_code)
                    return
                body = answer.json()
                # One round trip: the changes since the base bring the copy to the new rev.
                changes = body.get("changes", [{"ops": ops}])
                for change in changes:
                    local = reference(local, change["ops"])
                base = body["rev"]

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(writer, range(WRITERS)))
    assert refusals == []
    blocks = _state(servers[1], settings, session_id)["блоки"]
    assert [b for b in blocks if "автор" in b] == [
        {"автор": w, "правок": WRITES_EACH} for w in range(WRITERS)
    ]
    inserted = [(b["від"], b["номер"]) for b in blocks if "від" in b]
    assert sorted(inserted) == sorted(
        (w, n) for w in range(WRITERS) for n in range(1, WRITES_EACH + 1)
    )
    for w in range(WRITERS):  # newest first, as each writer inserted its own
        assert [n for who, n in inserted if who == w] == list(range(WRITES_EACH, 0, -1))
