"""uvicorn's httptools protocol, with the bounds it lacks and Solo's error shape.

uvicorn with httptools puts no limit on the size of a request's head (request line and
headers: a client could send gigabytes of one header) and no deadline on its arrival; and
what it refuses on its own (a request it cannot parse) it answers in plain text. This
protocol bounds the head to REQUEST_HEAD_LIMIT bytes, closes a connection whose head has
not arrived within SOLO_REQUEST_HEAD_SECONDS, and answers refusals as `400 invalid_request`
in the contract's shape with an `X-Request-ID`, counted in the app's metrics (operation
`none`). It finds the metrics and that deadline in the lifespan state uvicorn gives every
protocol. Everything else is uvicorn's.

Every TCP connection sends without Nagle's delay (TCP_NODELAY), whatever socket the server
was handed. asyncio sets it only on connections of a listening socket whose protocol number
is TCP's, and uvicorn's own multi-worker socket is opened with protocol 0 (`solo serve`'s
per-worker sockets, solo/web/listening.py, are not): uvicorn writes a response's head and
its body apart, so without it each answer could wait for the client's delayed
acknowledgement, 40 ms on Linux.

When shutdown begins, uvicorn asks each connection to finish its response (`shutdown`),
then waits up to its graceful timeout: an event stream never finishes by itself, so this
protocol also calls what the app's lifespan put in its state under ON_SHUTDOWN, which ends
every stream at once, terminated as a chunked response should be.

It relies on uvicorn's HttpToolsProtocol (`data_received`, `on_headers_complete`,
`on_message_complete`, `send_400_response`, `shutdown`, `app_state`: the lifespan state),
pinned in requirements.lock; tests/test_http_protocol.py drives it over real sockets.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from solo import limits
from solo.domain import jsonvalue
from solo.http.refusals import InvalidRequest
from solo.http.request_ids import REQUEST_ID_HEADER, fresh_request_id
from solo.runtime.metrics import LIFESPAN_STATE_KEY, Metrics
from solo.web.errors import answer_for

ON_SHUTDOWN = "solo.on_shutdown"
"""The key, in the state the app's lifespan yields, of what to call when shutdown begins."""
HEAD_SECONDS = "solo.request_head_seconds"
"""The key, in that state, of the seconds a request's head has to arrive."""

_INVALID_REQUEST = answer_for(InvalidRequest()).code
_UNPARSABLE = "The request is not HTTP/1.1 this server can read."
_HEAD_TOO_LARGE = f"The request line and headers pass {limits.REQUEST_HEAD_LIMIT} bytes."


class SoloHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_started = 0.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        send_without_delay(transport)
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._in_head:
            super().data_received(data)
            return
        if self._head_timer is None:
            self._start_head_timer()
        self._head_bytes += len(data)
        super().data_received(data)
        # Still inside the head after this piece (the parser holds what it has seen of it):
        # past the limit, the connection is refused before the head grows any further.
        if self._in_head and self._head_bytes > limits.REQUEST_HEAD_LIMIT:
            self._refuse(_HEAD_TOO_LARGE)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head, self._head_bytes = True, 0

    def shutdown(self) -> None:
        super().shutdown()
        on_shutdown = self.app_state.get(ON_SHUTDOWN)
        if on_shutdown is not None:
            on_shutdown()

    def send_400_response(self, msg: str) -> None:
        """What uvicorn answers to a request it cannot parse, in the contract's shape."""
        self._refuse(_UNPARSABLE)

    def _refuse(self, message: str) -> None:
        if self.transport.is_closing():
            return
        request_id = fresh_request_id()
        body = jsonvalue.encode(
            {"error": _INVALID_REQUEST, "request_id": request_id, "message": message}
        )
        head = [
            b"HTTP/1.1 400 Bad Request",
            *(name + b": " + value for name, value in self.server_state.default_headers),
            b"content-type: application/json",
            b"content-length: " + str(len(body)).encode(),
            REQUEST_ID_HEADER.lower().encode() + b": " + request_id.encode(),
            b"connection: close",
        ]
        self.transport.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        self.transport.close()
        self._count_refusal()

    def _count_refusal(self) -> None:
        metrics = self.app_state.get(LIFESPAN_STATE_KEY)
        if isinstance(metrics, Metrics):  # absent when the app's lifespan did not run
            metrics.request(None, 400, self.loop.time() - self._head_started)
            metrics.error(None, _INVALID_REQUEST)

    def _start_head_timer(self) -> None:
        self._head_started = self.loop.time()
        seconds = self.app_state.get(HEAD_SECONDS, limits.REQUEST_HEAD_SECONDS)
        self._head_timer = self.loop.call_later(seconds, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        """A head that has not arrived in time: the connection is closed, unanswered (no
        request was read to answer; a kept-alive connection that stays idle is closed by
        uvicorn's keep-alive timeout first)."""
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self.transport.close()


def send_without_delay(transport: asyncio.Transport) -> None:
    """TCP_NODELAY on the connection of `transport` when it is TCP, as asyncio sets it on the
    sockets it opens itself."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
