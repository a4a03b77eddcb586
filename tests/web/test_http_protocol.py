"""What the HTTP layer answers on its own, over real sockets: bounded heads, deadlines, and
refusals in the contract's shape."""

import asyncio
import contextlib
import json
import shutil
import socket
import time

import pytest
import uvicorn
from uvicorn.server import ServerState

from solo import limits
from solo.settings import Settings
from solo.web.http_protocol import SoloHttpToolsProtocol
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.clients import SpecCheckedClient
from tests.support.raw_http import RawResponse, read_response
from tests.support.request_ids import is_fresh_request_id
from tests.support.server import LiveServer

API = "/api/v1/solo"
BODY_DEADLINE = 1
HEAD_DEADLINE = 2


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("http-protocol")
    shutil.copyfile(sqlite_template, folder / "solo.db")
    settings = Settings(
        database_url=f"sqlite:///{folder}/solo.db", jwt_secret=TEST_JWT_SECRET, **UNTRIPPABLE_RATES
    )
    env = {
        **server_env(settings),
        "SOLO_BODY_DEADLINE_SECONDS": str(BODY_DEADLINE),
        "SOLO_REQUEST_HEAD_SECONDS": str(HEAD_DEADLINE),
    }
    live = LiveServer(env, log_path=folder / "server.log")
    live.settings = settings
    yield live
    live.stop()


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def send_quietly(sock: socket.socket, data: bytes) -> None:
    """Send what the server may stop reading (it answers and closes first)."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        sock.sendall(data)


def assert_refused_in_the_error_shape(response: RawResponse, message: str) -> None:
    assert response.status == 400
    assert response.headers["content-type"] == "application/json"
    assert response.headers["connection"] == "close"
    request_id = response.headers["x-request-id"]
    assert is_fresh_request_id(request_id)
    assert response.json() == {
        "error": "invalid_request",
        "request_id": request_id,
        "message": message,
    }


def test_a_head_over_the_limit_is_400_in_the_error_shape_and_closed(server):
    with connect(server) as sock:
        send_quietly(sock, f"GET {API}/healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ".encode())
        for _ in range(50):  # up to 50 MiB of one header, as long as the server reads
            send_quietly(sock, b"a" * (1024 * 1024))
        response = read_response(sock, wait_for_close=True)
    assert_refused_in_the_error_shape(
        response, f"The request line and headers pass {limits.REQUEST_HEAD_LIMIT} bytes."
    )
    assert response.closed_by_server


def test_a_head_within_the_limit_is_served(server):
    padding = "ж" * ((limits.REQUEST_HEAD_LIMIT - 200) // 2)
    with connect(server) as sock:
        sock.sendall(f"GET {API}/healthz HTTP/1.1\r\nHost: x\r\nX-Pad: {padding}\r\n\r\n".encode())
        response = read_response(sock, wait_for_close=False)
    assert response.status == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    "request_bytes",
    [b"GARBAGE\r\n\r\n", b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", b"\x16\x03\x01\x02"],
    ids=["not-http", "bad-header", "tls-to-a-plain-port"],
)
def test_an_unparsable_request_is_400_in_the_error_shape(server, request_bytes):
    with connect(server) as sock:
        sock.sendall(request_bytes)
        response = read_response(sock, wait_for_close=True)
    assert_refused_in_the_error_shape(response, "The request is not HTTP/1.1 this server can read.")


@pytest.mark.slow(2)
def test_a_connection_whose_head_never_arrives_is_closed(server):
    with connect(server) as sock:
        sock.sendall(f"GET {API}/healthz HTTP/1.1\r\nHost: x\r\n".encode())
        started = time.monotonic()
        sock.settimeout(HEAD_DEADLINE + 10)
        assert sock.recv(1) == b""
        waited = time.monotonic() - started
    assert HEAD_DEADLINE - 0.5 < waited < HEAD_DEADLINE + 5


def test_a_body_that_does_not_arrive_in_time_is_408_and_closed(server):
    headers = SpecCheckedClient.token_headers(server.settings, "олена")
    with connect(server) as sock:
        head = [
            f"POST {API}/sessions/ HTTP/1.1",
            "Host: x",
            "Content-Type: application/json",
            "Content-Length: 100",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + b'{"state": {')
        started = time.monotonic()
        response = read_response(sock, wait_for_close=True)
        waited = time.monotonic() - started
    assert response.status == 408
    assert response.headers["connection"] == "close"
    assert response.json() == {
        "error": "request_timeout",
        "request_id": response.headers["x-request-id"],
        "message": "The request body did not arrive in time.",
        "deadline": BODY_DEADLINE,
    }
    assert response.closed_by_server
    assert BODY_DEADLINE - 0.5 < waited < BODY_DEADLINE + 5


def test_the_connection_serves_the_next_request_after_an_answer(server):
    request = f"GET {API}/healthz HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    with connect(server) as sock:
        for _ in range(3):
            sock.sendall(request)
            assert json.loads(read_response(sock, wait_for_close=False).body) == {"status": "ok"}


def test_a_connection_on_the_socket_workers_share_sends_without_delay():
    """uvicorn opens the socket its workers share with protocol 0, on which asyncio leaves
    Nagle's algorithm on: each answer, written as head then body, would wait for the
    client's delayed acknowledgement."""
    config = uvicorn.Config(
        app=_not_called, host="127.0.0.1", port=0, http=SoloHttpToolsProtocol, log_config=None
    )
    config.load()
    listening = config.bind_socket()
    assert listening.proto == 0
    assert asyncio.run(_nodelay_of_accepted(config, listening)) == 1


async def _not_called(scope, receive, send):
    raise AssertionError(scope)


async def _nodelay_of_accepted(config: uvicorn.Config, listening: socket.socket) -> int:
    loop = asyncio.get_running_loop()
    made = loop.create_future()

    def protocol() -> SoloHttpToolsProtocol:
        accepted = SoloHttpToolsProtocol(config, ServerState(), app_state={}, _loop=loop)
        loop.call_soon(made.set_result, accepted)
        return accepted

    server = await loop.create_server(protocol, sock=listening)
    async with server:
        _, writer = await asyncio.open_connection(*listening.getsockname())
        accepted = await made
        nodelay = accepted.transport.get_extra_info("socket").getsockopt(
            socket.IPPROTO_TCP, socket.TCP_NODELAY
        )
        accepted.transport.close()
        writer.close()
        await writer.wait_closed()
    return nodelay


def test_a_websocket_upgrade_is_an_ordinary_request(server):
    with connect(server) as sock:
        sock.sendall(
            (
                f"GET {API}/healthz HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        response = read_response(sock, wait_for_close=False)
    assert response.status == 200
    assert response.json() == {"status": "ok"}


def read_until(sock: socket.socket, ending: bytes) -> bytes:
    """What the server sends until `ending` (ConnectionError if it closes before)."""
    data = b""
    while not data.endswith(ending):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {data!r}")
        data += chunk
    return data


def read_to_the_end(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def create_session(server, user: str) -> tuple[str, str]:
    """A new session's id, and the Authorization that opens it."""
    authorization = SpecCheckedClient.token_headers(server.settings, user)["Authorization"]
    body = b'{"state": {}}'
    request = (
        f"POST {API}/sessions/ HTTP/1.1\r\nHost: x\r\nAuthorization: {authorization}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with connect(server) as sock:
        sock.sendall(request + body)
        created = read_response(sock, wait_for_close=False)
    assert created.status == 201
    return created.json()["id"], authorization


def test_head_on_the_event_stream_answers_its_headers_and_the_next_request_too(server):
    session_id, authorization = create_session(server, "олена")
    pipelined = (
        f"HEAD {API}/sessions/{session_id}/events/ HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: {authorization}\r\n\r\n"
        f"GET {API}/healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    ).encode()
    with connect(server) as sock:
        sock.settimeout(5)
        sock.sendall(pipelined)
        answered = read_until(sock, b'{"status": "ok"}\n')
    head, healthz = answered.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    assert status_line == "HTTP/1.1 200 OK"
    assert headers["content-type"].startswith("text/event-stream")
    assert headers["cache-control"] == "private, no-cache"
    assert "content-length" not in headers and "transfer-encoding" not in headers
    assert healthz.startswith(b"HTTP/1.1 200 OK\r\n")


def test_shutdown_ends_an_open_stream_at_once_and_terminates_it(sqlite_template, tmp_path):
    shutil.copyfile(sqlite_template, tmp_path / "solo.db")
    settings = Settings(database_url=f"sqlite:///{tmp_path}/solo.db", jwt_secret=TEST_JWT_SECRET)
    live = LiveServer(server_env(settings), log_path=tmp_path / "server.log")
    live.settings = settings
    session_id, authorization = create_session(live, "олена")
    with connect(live) as sock:
        sock.sendall(
            (
                f"GET {API}/sessions/{session_id}/events/ HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: {authorization}\r\n\r\n"
            ).encode()
        )
        opened = read_until(sock, b"\n\n\r\n")  # the head, and the first event's chunk
        started = time.monotonic()
        live.stop()
        stopped = time.monotonic() - started
        rest = read_to_the_end(sock)
    assert opened.startswith(b"HTTP/1.1 200 OK\r\n") and b"transfer-encoding: chunked" in opened
    assert stopped < limits.GRACEFUL_SHUTDOWN_SECONDS / 4
    assert rest == b"0\r\n\r\n"
