"""Operators can see it: metrics summed over worker processes, JSON logs with request ids."""

import dataclasses
import json
import logging
import re

import httpx2
import pytest

from solo.runtime import logs
from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.clients import SpecCheckedClient
from tests.support.server import LiveServer

REQUESTS = 24


@pytest.fixture
def served(database_url, tmp_path):
    settings = Settings(
        database_url=database_url,
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
    )
    log = tmp_path / "server.log"
    server = LiveServer(server_env(settings), workers=2, log_path=log)
    try:
        yield server, settings, log
    finally:
        server.stop()


def samples(text: str, name: str) -> dict[str, float]:
    """`{labels: value}` of one metric in the Prometheus text format."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def test_metrics_count_every_worker_and_logs_carry_request_ids(served):
    server, settings, log = served
    headers = SpecCheckedClient.token_headers(settings, "олена")
    with httpx2.Client(base_url=server.api_url, timeout=10) as http:
        for _ in range(REQUESTS):  # a fresh connection each: both workers take some
            assert httpx2.get(server.api_url + "/healthz").status_code == 200
        created = http.post("/sessions/", json={"state": {}}, headers=headers).json()
        stale = http.patch(
            f"/sessions/{created['id']}/diff/",
            json={"ops": []},
            headers={**headers, "If-Match": '"9"', "X-Request-ID": "trace-412"},
        )
        assert stale.status_code == 412
        metrics = httpx2.get(server.base_url + "/metrics", timeout=10)
    assert metrics.status_code == 200
    assert metrics.headers["Content-Type"].startswith("text/plain")
    requests = samples(metrics.text, "solo_http_request_duration_seconds_count")
    assert requests['operation="getHealth",status="200"'] == REQUESTS
    assert requests['operation="createSession",status="201"'] == 1
    assert requests['operation="diffSession",status="412"'] == 1
    errors = samples(metrics.text, "solo_http_errors_total")
    assert errors == {'code="precondition_failed",operation="diffSession"': 1.0}
    database = samples(metrics.text, "solo_database_call_duration_seconds_count")
    assert database['outcome="ok"'] >= 3
    assert set(samples(metrics.text, "solo_state_cache_lookups_total")) == {
        'result="hit"',
        'result="miss"',
    }

    server.stop()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    access = [line for line in lines if line["logger"] == "solo.access"]
    assert len([line for line in access if line["operation"] == "getHealth"]) == REQUESTS
    refused = next(line for line in access if line.get("request_id") == "trace-412")
    path = f"/api/v1/solo/sessions/{created['id']}/diff/"
    assert refused == {
        "time": refused["time"],
        "level": "INFO",
        "logger": "solo.access",
        "message": f"PATCH {path} 412",
        "request_id": "trace-412",
        "operation": "diffSession",
        "status": 412,
        "ms": refused["ms"],
    }
    assert not [line for line in lines if line["logger"] == "uvicorn.access"]


def test_the_access_log_can_be_turned_off(settings, make_client, caplog):
    client, _ = make_client(dataclasses.replace(settings, access_log=False))
    with caplog.at_level(logging.INFO, logger="solo.access"):
        client.get("/healthz")
    assert caplog.records == []
    client, _ = make_client(settings)
    with caplog.at_level(logging.INFO, logger="solo.access"):
        client.get("/healthz", headers={"X-Request-ID": "trace-1"})
    assert [(r.getMessage(), r.status, r.operation) for r in caplog.records] == [
        ("GET /api/v1/solo/healthz 200", 200, "getHealth")
    ]


def test_a_log_line_is_json_with_the_request_id_and_the_exception(caplog):
    formatter = logs.JsonFormatter()
    token = logs.REQUEST_ID.set("req-42")
    try:
        try:
            raise ValueError("зламано")
        except ValueError:
            record = logging.getLogger("solo.тест").exception("щось %s", "пішло не так")
    finally:
        logs.REQUEST_ID.reset(token)
    record = caplog.records[-1]
    token = logs.REQUEST_ID.set("req-42")
    try:
        line = json.loads(formatter.format(record))
    finally:
        logs.REQUEST_ID.reset(token)
    assert line == {
        "time": line["time"],
        "level": "ERROR",
        "logger": "solo.тест",
        "message": "щось пішло не так",
        "request_id": "req-42",
        "exception": line["exception"],
    }
    assert "ValueError: зламано" in line["exception"]


def test_metrics_can_be_turned_off(settings, make_client):
    client, _ = make_client(dataclasses.replace(settings, metrics=False))
    response = client.request("GET", "http://testserver/metrics", validate=False)
    assert response.status_code == 404
