"""Body limits over real sockets: byte boundaries per endpoint, raw, gzip and chunked."""

import datetime as dt
import gzip
import json
import shutil

import pytest

from solo import limits
from solo.http import refusals
from solo.security.bearer import mint_token
from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support import raw_http
from tests.support.bodies import usual_message
from tests.support.server import LiveServer

API = "/api/v1/solo"


@pytest.fixture(scope="module")
def server(sqlite_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("body-limits")
    shutil.copyfile(sqlite_template, folder / "solo.db")
    settings = Settings(
        database_url=f"sqlite:///{folder}/solo.db", jwt_secret=TEST_JWT_SECRET, **UNTRIPPABLE_RATES
    )
    live = LiveServer(server_env(settings), log_path=folder / "server.log")
    yield live
    live.stop()


def auth(user="олена") -> dict[str, str]:
    token = mint_token(
        Settings(jwt_secret=TEST_JWT_SECRET, **UNTRIPPABLE_RATES),
        user,
        600,
        dt.datetime.now(dt.UTC),
    )
    return {"Authorization": f"Bearer {token}"}


def create_session(server, user="олена") -> str:
    body = b'{"state": {}}'
    headers = {**auth(user), "Content-Type": "application/json"}
    response = raw_http.request(server.port, "POST", f"{API}/sessions/", headers, body)
    assert response.status == 201, response.body
    return response.json()["id"]


def padded(template: str, size: int) -> bytes:
    """The template with its PAD filled so that the UTF-8 body is exactly `size` bytes."""
    bare = len(template.replace("PAD", "").encode())
    filler = "ї" * ((size - bare) // 2) + "a" * ((size - bare) % 2)
    body = template.replace("PAD", filler).encode()
    assert len(body) == size
    return body


ENDPOINTS = {
    "create": ("POST", "/sessions/", '{"state": {"текст": "PAD"}}', 201, {}),
    "diff": (
        "PATCH",
        "/sessions/{id}/diff/",
        '{"ops": [{"op": "add", "path": "/текст", "value": "PAD"}]}',
        200,
        {"If-Match": "*"},
    ),
    "save-stream": (
        "POST",
        "/sessions/{id}/save-stream/",
        '{"текст": "PAD"}',
        200,
        {"If-Match": "*"},
    ),
    "beacon": ("POST", "/sessions/{id}/beacon/", '{"подія": "PAD"}', 204, {}),
}
LIMITS = {
    "create": limits.STREAM_BODY_LIMIT,
    "diff": limits.DIFF_BODY_LIMIT,
    "save-stream": limits.STREAM_BODY_LIMIT,
    "beacon": limits.BEACON_BODY_LIMIT,
}
MODES = ["raw", "gzip", "chunked", "chunked-gzip"]


def send(server, endpoint: str, body: bytes, mode: str, user="олена", session_id=None, **kw):
    method, path, _template, _ok, extra = ENDPOINTS[endpoint]
    path = API + path.format(id=session_id or create_session(server, user))
    content_type = "text/plain;charset=UTF-8" if endpoint == "beacon" else "application/json"
    headers = {**auth(user), "Content-Type": content_type, **extra}
    if "gzip" in mode:
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body)
    return raw_http.request(
        server.port, method, path, headers, body, chunked=mode.startswith("chunked"), **kw
    )


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_a_body_of_exactly_the_limit_is_accepted(server, endpoint, mode):
    body = padded(ENDPOINTS[endpoint][2], LIMITS[endpoint])
    response = send(server, endpoint, body, mode)
    assert response.status == ENDPOINTS[endpoint][3], response.body[:500]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_one_byte_over_the_limit_is_413_and_the_connection_closes(server, endpoint, mode):
    session_id = None if endpoint == "create" else create_session(server)
    body = padded(ENDPOINTS[endpoint][2], LIMITS[endpoint] + 1)
    response = send(server, endpoint, body, mode, session_id=session_id, wait_for_close=True)
    assert response.status == 413
    path = API + ENDPOINTS[endpoint][1].format(id=session_id)
    assert response.json() == {
        "error": "payload_too_large",
        "request_id": response.headers["x-request-id"],
        "message": usual_message(refusals.PayloadTooLarge),
        "limit": LIMITS[endpoint],
        "encoding": "gzip" if "gzip" in mode else "raw",
        "endpoint": path,
    }
    assert response.headers["connection"] == "close"
    assert response.closed_by_server


def test_a_declared_length_over_the_limit_is_refused_before_any_body_is_sent(server):
    session_id = create_session(server)
    response = raw_http.request(
        server.port,
        "PATCH",
        f"{API}/sessions/{session_id}/diff/",
        {**auth(), "Content-Type": "application/json", "If-Match": '"0"'},
        content_length=limits.DIFF_BODY_LIMIT + 1,
        send_body=False,
    )
    assert response.status == 413
    assert response.json()["limit"] == limits.DIFF_BODY_LIMIT


def save_gzipped(server, session_id: str, compressed: bytes):
    headers = {**auth(), "Content-Type": "application/json", "Content-Encoding": "gzip"}
    return raw_http.request(
        server.port,
        "POST",
        f"{API}/sessions/{session_id}/save-stream/",
        {**headers, "If-Match": "*"},
        compressed,
    )


def test_several_gzip_members_are_one_body(server):
    session_id = create_session(server)
    body = '{"перша": "частина", "друга": 2}'.encode()
    compressed = gzip.compress(body[:10]) + gzip.compress(body[10:])
    response = save_gzipped(server, session_id, compressed)
    assert response.status == 200, response.body


@pytest.mark.parametrize(
    "compressed",
    [b"not gzip at all", gzip.compress(b'{"a": 1}')[:-6], b""],
    ids=["corrupt", "truncated", "empty"],
)
def test_broken_gzip_is_400_invalid_encoding(server, compressed):
    session_id = create_session(server)
    response = save_gzipped(server, session_id, compressed)
    assert response.status == 400
    assert response.json() == {
        "error": "invalid_encoding",
        "request_id": response.headers["x-request-id"],
        "message": usual_message(refusals.InvalidEncoding),
    }


@pytest.mark.parametrize("coding", ["br", "deflate", "gzip, br"])
def test_any_other_coding_is_415_naming_it_and_offering_gzip(server, coding):
    session_id = create_session(server)
    response = raw_http.request(
        server.port,
        "PATCH",
        f"{API}/sessions/{session_id}/diff/",
        {**auth(), "Content-Type": "application/json", "Content-Encoding": coding, "If-Match": "*"},
        b'{"ops": []}',
    )
    assert response.status == 415
    assert response.headers["accept-encoding"] == "gzip"
    assert response.json() == {
        "error": "unsupported_media_type",
        "request_id": response.headers["x-request-id"],
        "message": usual_message(refusals.UnsupportedMediaType),
        "encoding": coding,
    }


def test_a_strangers_session_is_404_before_the_body_limit(server):
    session_id = create_session(server, user="олена")
    body = padded(ENDPOINTS["diff"][2], limits.DIFF_BODY_LIMIT + 1)
    response = send(server, "diff", body, "raw", user="тарас", session_id=session_id)
    assert response.status == 404
    assert response.json()["error"] == "not_found"


def test_the_connection_stays_usable_after_an_accepted_body(server):
    session_id = create_session(server)
    body = json.dumps({"ops": []}).encode()
    response = send(server, "diff", body, "chunked", session_id=session_id, wait_for_close=True)
    assert response.status == 200
    assert response.closed_by_server is False


def test_a_body_of_many_gzip_members_up_to_the_limit_is_one_body(server):
    session_id = create_session(server)
    empty = gzip.compress(b"")
    compressed = empty * (limits.GZIP_MEMBERS_LIMIT - 1) + gzip.compress(b'{"\xd1\x97": 1}')
    response = save_gzipped(server, session_id, compressed)
    assert response.status == 200, response.body


@pytest.mark.parametrize("members", [limits.GZIP_MEMBERS_LIMIT + 1, 100_000])
def test_more_gzip_members_than_the_limit_is_400_invalid_encoding(server, members):
    session_id = create_session(server)
    response = save_gzipped(server, session_id, gzip.compress(b"") * members)
    assert response.status == 400
    assert response.json() == {
        "error": "invalid_encoding",
        "request_id": response.headers["x-request-id"],
        "message": f"The gzip body has more than {limits.GZIP_MEMBERS_LIMIT} members.",
    }
