"""A gzip bomb costs the server limit+1 inflated bytes, measured, not timed."""

import asyncio
import gzip
import tracemalloc
import zlib
from unittest import mock

import pytest

from solo import limits
from solo.http.refusals import InvalidEncoding, PayloadTooLarge, RequestTimeout
from solo.web.errors import answer_for
from solo.web.inflater import BoundedInflater, OverLimit
from solo.web.middleware.body_limit import BodyLimitMiddleware

GIB = 1024**3


async def _never(user, session_id):
    raise AssertionError("a request that names no session asks for none")


CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def bomb() -> list[bytes]:
    """1 GiB of zeros, gzip-compressed, as the 64 KiB pieces a client would stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(16 * 1024 * 1024)
    compressed = b"".join(compressor.compress(zeros) for _ in range(GIB // len(zeros)))
    compressed += compressor.flush()
    return [compressed[i : i + CHUNK] for i in range(0, len(compressed), CHUNK)]


def test_the_bomb_really_is_one_gib(bomb):
    inflated = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(b"".join(bomb[:4]))
    assert len(b"".join(bomb)) < 2 * 1024 * 1024
    assert len(inflated) > 100 * limits.DIFF_BODY_LIMIT


def test_the_inflater_stops_at_limit_plus_one_byte(bomb):
    inflater = BoundedInflater(limits.DIFF_BODY_LIMIT)
    fed = 0
    with pytest.raises(OverLimit):
        for piece in bomb:
            fed += len(piece)
            inflater.feed(piece)
    assert inflater.inflated == limits.DIFF_BODY_LIMIT + 1
    assert fed == CHUNK, "it should give up within the first piece of input"


def test_a_bomb_through_the_middleware_peaks_near_the_limit(bomb):
    """The whole request, as the server runs it: peak Python memory stays near the limit."""
    pieces = iter(bomb)
    consumed = 0

    async def receive():
        nonlocal consumed
        piece = next(pieces)
        consumed += len(piece)
        return {"type": "http.request", "body": piece, "more_body": True}

    async def app(scope, receive, send):
        raise AssertionError("the bomb must never reach the app")

    operation = "diffSession"
    middleware = BodyLimitMiddleware(
        app, body_limits={operation: limits.DIFF_BODY_LIMIT}, session_check=_never
    )
    scope = {
        "type": "http",
        "method": "PATCH",
        "path": "/api/v1/solo/sessions/x/diff/",
        "headers": [(b"content-encoding", b"gzip")],
        "extensions": {"connexion_routing": {"operation_id": operation}},
    }
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLarge):
            asyncio.run(middleware(scope, receive, None))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert consumed == CHUNK
    print(f"1 GiB bomb: {consumed} compressed bytes read, peak {peak} bytes traced")
    assert peak < 3 * limits.DIFF_BODY_LIMIT, f"peak {peak} bytes for a 1 GiB bomb"


def test_many_empty_members_cost_linear_time_however_the_body_is_chunked():
    """105,000 empty members in one 2 MiB chunk: refused after the limit, having fed zlib
    slices, so the copies zlib makes of what follows a member stay small."""
    body = gzip.compress(b"") * 105_000
    copied = []
    real = zlib.decompressobj

    class Counting:
        def __init__(self, *args):
            self._inflater = real(*args)

        def decompress(self, data, max_length):
            copied.append(len(data))
            return self._inflater.decompress(data, max_length)

        def __getattr__(self, name):
            return getattr(self._inflater, name)

    inflater = BoundedInflater(limits.STREAM_BODY_LIMIT)
    with mock.patch.object(zlib, "decompressobj", Counting), pytest.raises(InvalidEncoding):
        inflater.feed(body)
    assert len(copied) == limits.GZIP_MEMBERS_LIMIT + 1
    assert max(copied) <= 16 * 1024


def test_a_body_that_stalls_is_408_after_the_deadline():
    received = []

    async def receive():
        if received:
            await asyncio.sleep(3600)
        received.append(True)
        return {"type": "http.request", "body": b'{"ops": [', "more_body": True}

    async def app(scope, receive, send):
        raise AssertionError("a stalled body must never reach the app")

    operation = "diffSession"
    middleware = BodyLimitMiddleware(
        app,
        body_limits={operation: limits.DIFF_BODY_LIMIT},
        session_check=_never,
        body_deadline=0.05,
    )
    scope = {
        "type": "http",
        "method": "PATCH",
        "path": "/api/v1/solo/sessions/x/diff/",
        "headers": [(b"content-type", b"application/json")],
        "extensions": {"connexion_routing": {"operation_id": operation}},
    }
    with pytest.raises(RequestTimeout) as refused:
        asyncio.run(middleware(scope, receive, None))
    assert refused.value.deadline == 0.05
    assert answer_for(refused.value).headers(refused.value) == {"Connection": "close"}
