"""Event streams have limits, on live servers: per user and per session (counted over every
process with Redis), and per process (what its file descriptors allow), refused in the
error shape while every other request is answered."""

import dataclasses
import pathlib
import shutil
import time
import uuid

import httpx2
import pytest

from solo import limits
from solo.runtime.stream_slots import ProcessFull, TooManyStreams
from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.bodies import error_body
from tests.support.clients import SpecCheckedClient
from tests.support.event_streams import SECOND, HeldStream
from tests.support.server import LiveServer
from tests.support.spec import assert_conforms

PER_USER, PER_SESSION = 3, 2


@pytest.fixture
def capped(sqlite_template, tmp_path) -> Settings:
    shutil.copyfile(sqlite_template, tmp_path / "solo.db")
    return Settings(
        database_url=f"sqlite:///{tmp_path}/solo.db",
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        event_streams_per_user=PER_USER,
        event_streams_per_session=PER_SESSION,
        validate_responses=True,
        **UNTRIPPABLE_RATES,
    )


@pytest.fixture
def start(tmp_path):
    started: list[LiveServer] = []

    def start(settings: Settings, **options) -> LiveServer:
        log_path = tmp_path / f"server-{len(started)}.log"
        started.append(LiveServer(server_env(settings), log_path=log_path, **options))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def streams():
    opened: list[HeldStream] = []

    def open_stream(url: str, headers: dict[str, str]) -> HeldStream:
        opened.append(HeldStream(url, headers))
        return opened[-1]

    yield open_stream
    for stream in opened:
        stream.close()


def events_url(server: LiveServer, session_id: str) -> str:
    return f"{server.api_url}/sessions/{session_id}/events/"


def create(server: LiveServer, headers: dict[str, str]) -> str:
    response = httpx2.post(
        server.api_url + "/sessions/", json={"state": {"назва": "Чернетка"}}, headers=headers
    )
    assert response.status_code == 201
    return response.json()["id"]


def refused(url: str, headers: dict[str, str]) -> httpx2.Response:
    response = httpx2.get(url, headers=headers)
    assert_conforms(response)
    return response


def too_many(response: httpx2.Response, limit: int, scope: str) -> dict:
    assert response.headers["Retry-After"] == str(limits.EVENT_STREAM_LEASE_SECONDS)
    return error_body(
        response,
        TooManyStreams,
        limit=limit,
        scope=scope,
        retry_after=limits.EVENT_STREAM_LEASE_SECONDS,
    )


def opened_within(url: str, headers: dict[str, str], seconds: float) -> HeldStream:
    """A stream, once the server has a place for it again."""
    deadline = time.monotonic() + seconds
    while True:
        stream = HeldStream(url, headers)
        if stream.status == 200 or time.monotonic() > deadline:
            return stream
        stream.close()
        time.sleep(0.05)


def test_a_user_and_a_session_hold_at_most_their_caps(capped, start, streams):
    server = start(capped)
    olena = SpecCheckedClient.token_headers(capped, "олена")
    taras = SpecCheckedClient.token_headers(capped, "тарас")
    first, second = create(server, olena), create(server, olena)
    on_first = [streams(events_url(server, first), olena) for _ in range(PER_SESSION)]
    session_full = refused(events_url(server, first), olena)
    streams(events_url(server, second), olena)
    user_full = refused(events_url(server, second), olena)
    bystander = streams(events_url(server, create(server, taras)), taras)

    assert (session_full.status_code, user_full.status_code) == (429, 429)
    assert session_full.json() == too_many(session_full, PER_SESSION, "session")
    assert user_full.json() == too_many(user_full, PER_USER, "user")
    assert [stream.status for stream in [*on_first, bystander]] == [200] * 3
    assert b"\nid: 0\n" in bystander.first_event()
    on_first[0].close()
    again = opened_within(events_url(server, second), olena, SECOND)
    assert again.status == 200
    again.close()


@pytest.mark.slow(8)
def test_with_redis_every_process_counts_the_users_streams(capped, redis_url, start, streams):
    settings = dataclasses.replace(capped, rate_limit_storage=redis_url)
    servers = [start(settings), start(settings)]
    user = SpecCheckedClient.token_headers(settings, f"спільна-{uuid.uuid4()}")
    first, second = create(servers[0], user), create(servers[0], user)
    for _ in range(PER_SESSION):
        streams(events_url(servers[0], first), user)
    streams(events_url(servers[1], second), user)

    user_full = refused(events_url(servers[1], second), user)

    assert user_full.status_code == 429
    assert user_full.json() == too_many(user_full, PER_USER, "user")


OPEN_FILES = 160
STREAMS_ALLOWED = OPEN_FILES - limits.DESCRIPTORS_RESERVED


def test_a_process_refuses_streams_past_what_its_descriptors_allow(capped, start, streams):
    settings = dataclasses.replace(capped, event_streams_per_user=64, event_streams_per_session=64)
    server = start(settings, open_files=(OPEN_FILES - 10, OPEN_FILES))
    olena = SpecCheckedClient.token_headers(settings, "олена")
    taras = SpecCheckedClient.token_headers(settings, "тарас")
    session_id = create(server, olena)
    held = [streams(events_url(server, session_id), olena) for _ in range(STREAMS_ALLOWED)]

    full = refused(events_url(server, session_id), olena)
    started = time.monotonic()
    bystanders = [
        httpx2.post(server.api_url + "/sessions/", json={}, headers=taras).status_code,
        httpx2.get(server.api_url + "/healthz").status_code,
    ]

    assert time.monotonic() - started < SECOND
    assert bystanders == [201, 200]
    assert [stream.status for stream in held] == [200] * STREAMS_ALLOWED
    assert full.status_code == 503
    assert full.json() == error_body(
        full,
        ProcessFull(),
        checks={"streams": "unavailable"},
    )
    assert full.headers["Retry-After"] == str(limits.RETRY_AFTER_SECONDS)
    # `solo serve` raised its soft open files limit to the hard one.
    limits_file = pathlib.Path(f"/proc/{server.pid}/limits").read_text()
    open_files = next(line for line in limits_file.splitlines() if "open files" in line)
    assert open_files.split()[3:5] == [str(OPEN_FILES), str(OPEN_FILES)]
