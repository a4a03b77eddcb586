"""Operators can see it: metrics summed over worker processes, JSON logs with request ids."""

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import shutil
import socket
import threading

import httpx
import httpx2
import pytest

from solo import limits
from solo.http import refusals
from solo.runtime import logs
from solo.runtime.metrics import Exposition, Metrics
from solo.runtime.state_cache import StateCache
from solo.settings import Settings
from solo.web.app import create_app
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.bodies import error_body
from tests.support.clients import SpecCheckedClient
from tests.support.raw_http import read_response
from tests.support.server import LiveServer

REQUESTS = 24
SCRAPES = 50
METRICS_TOKEN = "скрейп".encode().hex()


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


@pytest.mark.slow(9)
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


class CountedMetrics(Metrics):
    """Metrics whose expositions are counted, with the threads they ran on; each waits for
    `gate` (open unless a test closes it)."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []
        self.gate = threading.Event()
        self.gate.set()
        self.failures: list[Exception] = []

    def exposition(self) -> bytes:
        self.threads.append(threading.current_thread().name)
        assert self.gate.wait(10)
        if self.failures:
            raise self.failures.pop()
        return super().exposition()


class Frozen:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_concurrent_scrapes_share_one_exposition_on_its_own_thread():
    metrics, clock = CountedMetrics(), Frozen()
    exposition = Exposition(metrics, StateCache(1024), monotonic=clock)

    async def scrapes() -> list[bytes]:
        metrics.gate.clear()
        waiting = [asyncio.create_task(exposition.text()) for _ in range(SCRAPES)]
        await asyncio.sleep(0)  # each scrape has run up to its wait for the exposition
        metrics.gate.set()
        return await asyncio.gather(*waiting)

    try:
        texts = asyncio.run(scrapes())
        assert len(metrics.threads) == 1
        assert len(set(texts)) == 1
        clock.now += limits.METRICS_CACHE_SECONDS - 0.001
        assert asyncio.run(exposition.text()) == texts[0]
        assert len(metrics.threads) == 1
        clock.now += 0.001
        asyncio.run(exposition.text())
        assert len(metrics.threads) == 2
    finally:
        exposition.close()
    assert all(name.startswith("solo-metrics") for name in metrics.threads), metrics.threads


def test_a_failed_exposition_is_not_kept():
    metrics = CountedMetrics()
    metrics.failures.append(OSError("файли метрик недоступні"))
    exposition = Exposition(metrics, StateCache(1024), monotonic=Frozen())
    try:
        with pytest.raises(OSError):
            asyncio.run(exposition.text())
        assert asyncio.run(exposition.text()).startswith(b"# HELP")
    finally:
        exposition.close()
    assert len(metrics.threads) == 2


def test_a_flood_of_scrapes_costs_one_exposition(settings, deps):
    metrics = CountedMetrics()
    frozen = Exposition(metrics, deps.states, monotonic=Frozen())
    flooded = dataclasses.replace(deps, metrics=metrics, exposition=frozen)
    app = create_app(settings, flooded)

    async def flood() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await asyncio.gather(*(http.get("/metrics") for _ in range(SCRAPES)))

    try:
        answers = asyncio.run(flood())
    finally:
        frozen.close()
    assert [answer.status_code for answer in answers] == [200] * SCRAPES
    assert len({answer.content for answer in answers}) == 1
    assert len(metrics.threads) == 1


@pytest.fixture
def guarded(settings, make_client):
    """A client of a server whose metrics take METRICS_TOKEN."""
    return make_client(dataclasses.replace(settings, metrics_token=METRICS_TOKEN))[0]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        f"Bearer {METRICS_TOKEN}x",
        f"Bearer {METRICS_TOKEN[:-1]}",
        METRICS_TOKEN,
        f"Basic {METRICS_TOKEN}",
        "Bearer скрейп".encode(),
    ],
)
def test_a_scrape_without_the_metrics_token_is_401(guarded, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = guarded.request("GET", "http://testserver/metrics", validate=False, headers=headers)
    reason = "missing" if authorization is None else "invalid"
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="solo"'
        if reason == "missing"
        else 'Bearer realm="solo", error="invalid_token"'
    )
    assert response.json() == error_body(
        response,
        refusals.Unauthorized(
            "Scrapes send the bearer token set as SOLO_METRICS_TOKEN.", reason=reason
        ),
        reason=reason,
    )


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_a_scrape_with_the_metrics_token_is_answered(guarded, scheme):
    response = guarded.request(
        "GET",
        "http://testserver/metrics",
        validate=False,
        headers={"Authorization": f"{scheme} {METRICS_TOKEN}"},
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert "solo_http_request_duration_seconds" in response.text


def test_the_access_log_shows_no_download_token(client, caplog):
    auth = client.auth("олена")
    session_id = client.post("/sessions/", json={"state": {"а": 1}}, headers=auth).json()["id"]
    url = client.post(f"/sessions/{session_id}/snapshot/", headers=auth).json()["url"]
    token = url.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO, logger="solo.access"):
        assert client.get(url).status_code == 200
        assert client.get(url + "/зайве", validate=False).status_code == 404
    assert [(r.getMessage(), r.status, r.operation) for r in caplog.records] == [
        ("GET /api/v1/solo/files/<redacted> 200", 200, "downloadFile"),
        ("GET /api/v1/solo/files/<redacted> 404", 404, None),
    ]
    assert token not in caplog.text


@pytest.fixture
def one_process(sqlite_template, tmp_path):
    shutil.copyfile(sqlite_template, tmp_path / "solo.db")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/solo.db",
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
    )
    env = {**server_env(settings), "SOLO_METRICS_TOKEN": METRICS_TOKEN}
    server = LiveServer(env, workers=2, log_path=tmp_path / "server.log")
    yield server
    server.stop()


def refused_by_the_http_layer(server: LiveServer, request: bytes) -> int:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(request)  # the server may answer and close before reading it all
        return read_response(sock, wait_for_close=True).status


def test_the_http_layers_own_refusals_are_counted(one_process):
    server = one_process
    head_too_large = b"GET /metrics HTTP/1.1\r\nX-Pad: " + b"a" * (limits.REQUEST_HEAD_LIMIT + 1)
    assert refused_by_the_http_layer(server, b"GARBAGE\r\n\r\n") == 400
    assert refused_by_the_http_layer(server, head_too_large) == 400
    assert httpx2.get(server.base_url + "/metrics", timeout=10).status_code == 401
    scrape = httpx2.get(
        server.base_url + "/metrics",
        headers={"Authorization": f"Bearer {METRICS_TOKEN}"},
        timeout=10,
    )
    assert scrape.status_code == 200
    requests = samples(scrape.text, "solo_http_request_duration_seconds_count")
    assert {labels: n for labels, n in requests.items() if 'operation="none"' in labels} == {
        'operation="none",status="400"': 2,
        'operation="none",status="401"': 1,
    }
    assert samples(scrape.text, "solo_http_errors_total") == {
        'code="invalid_request",operation="none"': 2,
        'code="unauthorized",operation="none"': 1,
    }
