"""The last slots of a quota, raced by clients of two server processes: exactly as many
creates pass as there are slots, on SQLite and PostgreSQL."""

import collections
import concurrent.futures
import threading

import httpx2
import pytest

from tests.support.clients import SpecCheckedClient
from tests.support.server import live_servers

QUOTA = 8
FREE_SLOTS = 5
RACERS_PER_SERVER = 20


@pytest.fixture
def servers(servers_environment, tmp_path):
    """Two `solo serve` processes on one database, with a quota of QUOTA sessions."""
    env, settings = servers_environment
    env = {**env, "SOLO_QUOTA_SESSIONS": str(QUOTA)}
    with live_servers(env, count=2, log_dir=tmp_path) as started:
        yield started, settings


def test_forty_creates_racing_for_the_last_five_slots_five_pass(servers):
    started, settings = servers
    headers = SpecCheckedClient.token_headers(settings, "олена")
    for n in range(QUOTA - FREE_SLOTS):
        created = httpx2.post(
            started[n % 2].api_url + "/sessions/", json={"state": {"n": n}}, headers=headers
        )
        assert created.status_code == 201
    racers = RACERS_PER_SERVER * len(started)
    barrier = threading.Barrier(racers)

    def race(index: int) -> tuple[int, dict]:
        server = started[index % len(started)]
        with httpx2.Client(timeout=30) as http:
            barrier.wait()
            response = http.post(
                server.api_url + "/sessions/", json={"state": {"гонщик": index}}, headers=headers
            )
        return response.status_code, response.json()

    with concurrent.futures.ThreadPoolExecutor(racers) as pool:
        answers = list(pool.map(race, range(racers)))
    assert collections.Counter(status for status, _ in answers) == {
        201: FREE_SLOTS,
        403: racers - FREE_SLOTS,
    }
    for status, body in answers:
        if status == 403:
            assert body == {
                "error": "quota_exceeded",
                "request_id": body["request_id"],
                "message": "This would pass your quota: delete sessions or snapshots to make room.",
                "quota": "sessions",
                "limit": QUOTA,
                "used": QUOTA,
            }
    listed = httpx2.get(started[1].api_url + "/sessions/?limit=50", headers=headers).json()
    assert len(listed["items"]) == QUOTA
    usage = httpx2.get(started[0].api_url + "/usage/", headers=headers).json()
    assert usage["sessions"] == {"used": QUOTA, "limit": QUOTA}
