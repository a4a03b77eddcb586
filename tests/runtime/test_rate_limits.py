"""Shared budgets on the real Redis, across server processes, and surviving its outage."""

import dataclasses
import shutil
import subprocess
import time
import uuid

import httpx2
import pytest
import redis

from solo.runtime.rate_limits import RateLimits
from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.clients import SpecCheckedClient
from tests.support.server import LiveServer, free_port, live_servers


@pytest.fixture
def base_settings(sqlite_template, tmp_path):
    shutil.copyfile(sqlite_template, tmp_path / "solo.db")
    return Settings(
        database_url=f"sqlite:///{tmp_path}/solo.db",
        jwt_secret=TEST_JWT_SECRET,
        **{**UNTRIPPABLE_RATES, "rate_limit_write": "10/hour"},
    )


def _writes(server, headers, count):
    statuses = []
    for _ in range(count):
        response = httpx2.post(server.api_url + "/sessions/", json={}, headers=headers, timeout=10)
        statuses.append(response.status_code)
    return statuses


def test_two_server_processes_share_one_budget(base_settings, redis_url, tmp_path):
    settings = dataclasses.replace(base_settings, rate_limit_storage=redis_url)
    with live_servers(server_env(settings), count=2, log_dir=tmp_path) as servers:
        headers = SpecCheckedClient.token_headers(settings, f"спільний-{uuid.uuid4()}")
        statuses = []
        for _ in range(7):
            for server in servers:
                statuses += _writes(server, headers, 1)
    assert statuses.count(201) == 10
    assert statuses.count(429) == 4


@pytest.fixture
def own_redis(tmp_path):
    """A real Redis of this test's own, so that it can be taken down mid-run."""
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    client.close()
    yield f"redis://127.0.0.1:{port}/0", process
    if process.poll() is None:
        process.terminate()
        process.wait()


def test_a_redis_outage_mid_run_does_not_fail_requests(base_settings, own_redis, tmp_path):
    url, redis_process = own_redis
    settings = dataclasses.replace(base_settings, rate_limit_storage=url)
    server = LiveServer(server_env(settings), log_path=tmp_path / "server.log")
    try:
        headers = SpecCheckedClient.token_headers(settings, "олена")
        before = _writes(server, headers, 3)
        redis_process.terminate()
        redis_process.wait()
        response = httpx2.post(server.api_url + "/sessions/", json={}, headers=headers, timeout=10)
        after = [response.status_code, *_writes(server, headers, 2)]
    finally:
        server.stop()
    assert before == [201, 201, 201]
    assert after == [201, 201, 201]
    assert response.headers["X-RateLimit-Limit"] == "10"
    assert "rate-limit storage does not answer" in (tmp_path / "server.log").read_text()


def test_without_redis_the_process_still_limits_by_itself():
    settings = Settings(
        rate_limit_storage=f"redis://127.0.0.1:{free_port()}/0", rate_limit_write="2/hour"
    )
    rate_limits = RateLimits(settings)
    decisions = [rate_limits.hit("write", "олена") for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
