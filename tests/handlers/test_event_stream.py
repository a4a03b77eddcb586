"""Server-Sent Events of revisions, on live servers: any process's write reaches any
process's stream within a second, the stream answers as the spec says, and its token
opens nothing else."""

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import json
import shutil
import time
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx2
import jwt
import pytest

from solo import limits
from solo.domain.jsonvalue import timestamp
from solo.handlers.revisions import _events
from solo.services import sessions
from solo.settings import Settings
from solo.web.spec import load_spec
from tests.conftest import (
    BACKENDS,
    TEST_JWT_SECRET,
    UNTRIPPABLE_RATES,
    postgres_database,
    server_env,
)
from tests.support.clients import SpecCheckedClient
from tests.support.event_streams import SECOND, Stream
from tests.support.listeners import Listeners
from tests.support.server import live_servers


@pytest.fixture(scope="module", params=BACKENDS)
def served(request, tmp_path_factory):
    """Two servers on one database (on SQLite they learn of each other's writes by polling,
    on PostgreSQL by LISTEN/NOTIFY), shared by this module's tests: starting them costs
    seconds, and each test streams sessions of its own, as a user of its own."""
    folder = tmp_path_factory.mktemp(f"event-streams-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            shutil.copyfile(request.getfixturevalue("sqlite_template"), folder / "solo.db")
            database_url = f"sqlite:///{folder}/solo.db"
        else:
            database_url = stack.enter_context(
                postgres_database(request.getfixturevalue("postgres_admin"))
            )
        settings = Settings(
            database_url=database_url,
            storage_url=f"file://{folder}/snapshots",
            jwt_secret=TEST_JWT_SECRET,
            validate_responses=True,
            **UNTRIPPABLE_RATES,
        )
        started = stack.enter_context(live_servers(server_env(settings), count=2, log_dir=folder))
        yield started, settings


@pytest.fixture
def servers(served):
    return served[0]


@pytest.fixture
def settings(served):
    """The servers' settings (this module's tests use the database they share)."""
    return served[1]


@pytest.fixture
def user() -> str:
    """A user of this test's own: the servers outlive it, with the streams it opened."""
    return f"олена-{uuid.uuid4().hex[:8]}"


def compact(value) -> str:
    """JSON as the server writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def create(server, headers, state=None):
    response = httpx2.post(
        server.api_url + "/sessions/",
        json={"state": state or {"назва": "Чернетка"}},
        headers=headers,
    )
    assert response.status_code == 201
    return response.json()


def diff(server, session_id, headers, key):
    response = httpx2.patch(
        f"{server.api_url}/sessions/{session_id}/diff/",
        json={"ops": [{"op": "add", "path": f"/{key}", "value": True}]},
        headers={**headers, "If-Match": "*"},
    )
    assert response.status_code == 200
    return response.json()


def test_a_stream_follows_every_revision_whichever_server_wrote_it(servers, settings, user):
    headers = SpecCheckedClient.token_headers(settings, user)
    writer, streamer = servers
    created = create(writer, headers)
    url = created["events_url"].replace(writer.api_url, streamer.api_url)
    stream = Stream(url)
    try:
        first = stream.next()
        assert first == {
            "retry": str(limits.EVENTS_RETRY_MILLISECONDS),
            "event": "rev",
            "id": "0",
            "data": compact({"rev": 0, "updated_at": created["updated_at"]}),
        }
        for n, server in enumerate([writer, writer, streamer, writer], start=1):
            started = time.monotonic()
            written = diff(server, created["id"], headers, f"крок{n}")
            event = stream.next()
            assert time.monotonic() - started < SECOND
            ops = [{"op": "add", "path": f"/крок{n}", "value": True}]
            assert (event["event"], event["id"], json.loads(event["data"])) == (
                "rev",
                str(n),
                {**written, "ops": ops},
            )
    finally:
        stream.close()


def test_the_stream_answers_as_the_spec_says_and_ends_with_its_session(servers, settings, user):
    headers = SpecCheckedClient.token_headers(settings, user)
    server = servers[0]
    created = create(server, headers)
    stream = Stream(f"{server.api_url}/sessions/{created['id']}/events/", headers)
    try:
        assert stream.next()["id"] == "0"
        response = stream.response
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        operation = load_spec()["paths"]["/sessions/{session_id}/events/"]["get"]
        declared = operation["responses"]["200"]["headers"]
        assert {name.lower() for name in declared} <= set(response.headers)
        assert response.headers["cache-control"] == "private, no-cache"
        deleted = httpx2.delete(
            f"{server.api_url}/sessions/{created['id']}/",
            headers={**headers, "If-Match": "*"},
        )
        assert deleted.status_code == 204
        assert stream.next() == {"event": "deleted", "data": compact({"id": created["id"]})}
        assert stream.next() is None
    finally:
        stream.close()


def test_a_deleted_session_ends_its_streams_on_every_server_at_once(servers, settings, user):
    headers = SpecCheckedClient.token_headers(settings, user)
    created = create(servers[0], headers)
    streams = [
        Stream(f"{server.api_url}/sessions/{created['id']}/events/", headers) for server in servers
    ]
    try:
        assert [stream.next()["id"] for stream in streams] == ["0", "0"]
        started = time.monotonic()
        deleted = httpx2.delete(
            f"{servers[0].api_url}/sessions/{created['id']}/",
            headers={**headers, "If-Match": "*"},
        )
        assert deleted.status_code == 204
        said = {"event": "deleted", "data": compact({"id": created["id"]})}
        assert [stream.next() for stream in streams] == [said, said]
        assert time.monotonic() - started < SECOND * 2
        assert [stream.next() for stream in streams] == [None, None]
    finally:
        for stream in streams:
            stream.close()


def test_the_events_token_opens_that_sessions_events_and_nothing_else(servers, settings, user):
    headers = SpecCheckedClient.token_headers(settings, user)
    server = servers[0]
    mine, other = create(server, headers), create(server, headers)
    token = parse_qs(urlsplit(mine["events_url"]).query)["token"][0]
    beacon = httpx2.post(
        f"{server.api_url}/sessions/{mine['id']}/beacon/",
        params={"token": token},
        content=b'{"e": 1}',
        headers={"Content-Type": "text/plain"},
    )
    assert (beacon.status_code, beacon.json()["error"]) == (401, "unauthorized")
    elsewhere = httpx2.get(
        f"{server.api_url}/sessions/{other['id']}/events/", params={"token": token}
    )
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (403, "forbidden")
    stranger = httpx2.get(
        f"{server.api_url}/sessions/{mine['id']}/events/",
        headers=SpecCheckedClient.token_headers(settings, "тарас"),
    )
    assert (stranger.status_code, stranger.json()["error"]) == (404, "not_found")


def test_a_quiet_stream_sends_heartbeats(make_client, settings, clock, monkeypatch):
    monkeypatch.setattr(limits, "EVENTS_HEARTBEAT_SECONDS", 0.05)
    _, deps = make_client(settings, clock)
    session = sessions.create_session(
        deps.database.unit_of_work(), deps.states, owner="олена", state={}, clock=clock
    ).session

    async def first_three() -> list[bytes]:
        expires_at = (clock.now + dt.timedelta(hours=1)).timestamp()
        stream = _events(deps, "олена", session.id, expires_at=expires_at)
        try:
            return [await anext(stream) for _ in range(3)]
        finally:
            await stream.aclose()

    opened, *beats = asyncio.run(first_three())
    assert opened == (
        b'retry: 1000\nevent: rev\nid: 0\ndata: {"rev":0,"updated_at":"%s"}\n\n'
        % clock.stamp.encode()
    )
    assert beats == [b": heartbeat\n\n", b": heartbeat\n\n"]


def test_a_stream_says_expired_and_ends_when_its_credential_expires(
    make_client, settings, clock, monkeypatch
):
    monkeypatch.setattr(limits, "EVENTS_HEARTBEAT_SECONDS", 0.05)
    _, deps = make_client(settings, clock)
    session = sessions.create_session(
        deps.database.unit_of_work(), deps.states, owner="олена", state={}, clock=clock
    ).session
    expires_at = clock.now + dt.timedelta(minutes=1)

    async def until_the_end() -> list[bytes]:
        stream = _events(deps, "олена", session.id, expires_at=expires_at.timestamp())
        said = [await anext(stream), await anext(stream)]
        clock.now = expires_at
        while len(said) < 5:  # an ended stream says no more; one that goes on beats
            try:
                said.append(await anext(stream))
            except StopAsyncIteration:
                break
        await stream.aclose()
        return said[1:]

    assert asyncio.run(until_the_end()) == [
        b": heartbeat\n\n",
        b'event: expired\ndata: {"expires_at":"2026-11-26T09:01:00Z"}\n\n',
    ]


WRITERS, WRITES_EACH = 8, 10


def test_every_stream_sees_every_revision_while_eight_writers_use_two_processes(
    servers, settings, user
):
    """Each process delivers every revision, in order: its own writes, published at once,
    never overtake another process's older ones."""
    headers = SpecCheckedClient.token_headers(settings, user)
    created = create(servers[0], headers)
    streams = [
        Stream(f"{server.api_url}/sessions/{created['id']}/events/", headers)
        for server in servers * 3
    ]

    def writer(index: int) -> None:
        for n in range(WRITES_EACH):
            diff(servers[(index + n) % 2], created["id"], headers, f"автор{index}-{n}")

    try:
        with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(writer, range(WRITERS)))
        head = WRITERS * WRITES_EACH
        assert [stream.revs_until(head, SECOND * 2) for stream in streams] == [
            list(range(head + 1))
        ] * len(streams)
    finally:
        for stream in streams:
            stream.close()


ROUNDS = 5


def test_streams_reach_the_head_after_their_listeners_are_killed_during_writes(
    postgres_database_url, tmp_path
):
    """Revisions announced while a process's LISTEN connection is down are caught up when
    it is back: every stream reaches the head, every revision in order."""
    settings = Settings(
        database_url=postgres_database_url,
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
    )
    with live_servers(server_env(settings), count=2, log_dir=tmp_path) as servers:
        follow_through_listener_outages(servers, postgres_database_url, settings)


def follow_through_listener_outages(servers, database_url, settings):
    listeners = Listeners(database_url)
    headers = SpecCheckedClient.token_headers(settings, "олена")
    created = create(servers[0], headers)
    streams = [
        Stream(f"{server.api_url}/sessions/{created['id']}/events/", headers)
        for server in servers * 3
    ]
    try:
        assert [stream.revs_until(0, SECOND * 2) for stream in streams] == [[0]] * 6
        listeners.wait_for(2, SECOND * 5)
        for round_ in range(ROUNDS):
            assert listeners.terminate() == 2
            for server in servers:
                diff(server, created["id"], headers, f"раунд{round_}-{server.port}")
            listeners.wait_for(2, SECOND * 5)
        back = time.monotonic()
        head = 2 * ROUNDS
        assert [stream.revs_until(head, SECOND * 2) for stream in streams] == [
            list(range(1, head + 1))
        ] * len(streams)
        assert time.monotonic() - back < SECOND * 2
    finally:
        listeners.close()
        for stream in streams:
            stream.close()


TOKEN_SECONDS = 5


@pytest.mark.slow(5)
def test_a_stream_says_expired_and_ends_when_its_token_does(servers, settings, user):
    # Long enough that a loaded machine opens all three streams before it expires.
    headers = SpecCheckedClient.token_headers(settings, user, ttl=TOKEN_SECONDS)
    server = servers[0]
    created = create(server, headers)
    token = headers["Authorization"].removeprefix("Bearer ")
    expires_at = jwt.decode(token, options={"verify_signature": False})["exp"]
    streams = [
        Stream(f"{server.api_url}/sessions/{created['id']}/events/", headers),
        Stream(created["events_url"]),
    ]
    expired = {
        "event": "expired",
        "data": compact({"expires_at": timestamp(dt.datetime.fromtimestamp(expires_at, dt.UTC))}),
    }
    far_off = jwt.encode({"sub": user, "exp": 10**12}, settings.jwt_secret, algorithm="HS256")
    lasting = Stream(
        f"{server.api_url}/sessions/{created['id']}/events/",
        {"Authorization": f"Bearer {far_off}"},  # valid past the years a date can hold
    )
    try:
        assert [stream.next()["id"] for stream in [*streams, lasting]] == ["0", "0", "0"]
        assert [stream.next(within=SECOND * (TOKEN_SECONDS + 2)) for stream in streams] == [
            expired,
            expired,
        ]
        assert time.time() >= expires_at
        assert [stream.next() for stream in streams] == [None, None]
        assert lasting.events.empty()
    finally:
        for stream in [*streams, lasting]:
            stream.close()
