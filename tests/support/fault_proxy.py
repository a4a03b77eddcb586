"""A misbehaving network between a browser and `solo serve`, for the autosave client's tests.

An HTTP/1.1 proxy on loopback that forwards each request to the server, reads the whole
answer, and then may drop it (closes the browser's connection without a byte): the server
has applied the write, the client never hears so. It can also go offline (every
connection refused or cut), answer writes itself for a while (429 or 503 with Retry-After,
with the CORS headers a page of another origin needs to read them), and be pointed at
another upstream (a restarted server). Event streams are piped through as they come.
Every request is logged with its time and what became of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import random
import threading
import time

WRITE_METHODS = frozenset({"POST", "PATCH", "DELETE"})
HEAD_LIMIT = 64 * 1024


@dataclasses.dataclass(frozen=True)
class Logged:
    at: float
    method: str
    path: str
    outcome: str  # "answered", "dropped", "injected", "refused" or "upstream down"
    status: int | None
    headers: dict[str, str]


@dataclasses.dataclass
class _Injection:
    status: int
    error: str
    retry_after: int


class FaultProxy:
    def __init__(self, upstream_port: int, *, seed: int = 19):
        self.upstream_port = upstream_port
        self.drop_rate = 0.0
        self.answer_delay = 0.0
        self.offline = False
        self.log: list[Logged] = []
        self._random = random.Random(seed)
        self._injections: list[_Injection] = []
        self._lock = threading.Lock()
        self._connections: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        self.url = f"http://127.0.0.1:{self.port}"

    # Control, from the test's thread.

    def go_offline(self) -> None:
        self.offline = True
        self._loop.call_soon_threadsafe(self._cut_all)

    def go_online(self) -> None:
        self.offline = False

    def inject(self, status: int, error: str, retry_after: int, count: int = 1) -> None:
        """Answer the next `count` writes with this status instead of forwarding them."""
        with self._lock:
            self._injections.extend(_Injection(status, error, retry_after) for _ in range(count))

    def writes(self) -> list[Logged]:
        with self._lock:
            return [entry for entry in self.log if entry.method in WRITE_METHODS]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    # The proxy, on its own event loop.

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, limit=HEAD_LIMIT)
        )
        self._server = server
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _shutdown(self) -> None:
        self._server.close()
        self._cut_all()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _cut_all(self) -> None:
        for writer in list(self._connections):
            writer.transport.abort()
        self._connections.clear()

    def _record(self, method, path, outcome, status, headers) -> None:
        with self._lock:
            self.log.append(Logged(time.monotonic(), method, path, outcome, status, headers))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while not self.offline:
                request = await _read_request(reader)
                if request is None:
                    break
                if not await self._exchange(request, writer):
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._connections.discard(writer)
            writer.transport.abort()

    async def _exchange(self, request: _Request, writer: asyncio.StreamWriter) -> bool:
        """Forward one request; False when the browser's connection is to be closed."""
        method, path, headers = request.method, request.path, request.headers
        if self.offline:
            self._record(method, path, "refused", None, headers)
            return False
        injection = self._next_injection(method)
        if injection is not None:
            self._record(method, path, "injected", injection.status, headers)
            writer.write(_injected_answer(injection, headers.get("origin")))
            await writer.drain()
            return True
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            self._record(method, path, "upstream down", None, headers)
            return False
        try:
            up_writer.write(request.forwarded())
            await up_writer.drain()
            head = await up_reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if b"text/event-stream" in head.lower():
                self._record(method, path, "answered", status, headers)
                writer.write(head)
                await _pipe(up_reader, writer)
                return False
            body = await up_reader.read()
        finally:
            up_writer.transport.abort()
        if method in WRITE_METHODS and self.answer_delay:
            await asyncio.sleep(self.answer_delay)
        if method in WRITE_METHODS and self._random.random() < self.drop_rate:
            self._record(method, path, "dropped", status, headers)
            return False
        self._record(method, path, "answered", status, headers)
        writer.write(head + body)
        await writer.drain()
        return False

    def _next_injection(self, method: str) -> _Injection | None:
        if method not in WRITE_METHODS:
            return None
        with self._lock:
            return self._injections.pop(0) if self._injections else None


@dataclasses.dataclass
class _Request:
    method: str
    path: str
    head_lines: list[bytes]
    headers: dict[str, str]
    body: bytes

    def forwarded(self) -> bytes:
        """The request as received, but asking the server to close after its answer."""
        lines = [
            line for line in self.head_lines[1:] if not line.lower().startswith(b"connection:")
        ]
        head = b"\r\n".join([self.head_lines[0], *lines, b"Connection: close"])
        return head + b"\r\n\r\n" + self.body


async def _read_request(reader: asyncio.StreamReader) -> _Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    lines = head[:-4].split(b"\r\n")
    method, path, _version = lines[0].decode("latin-1").split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    body = await reader.readexactly(length) if length else b""
    return _Request(method, path, lines, headers, body)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while chunk := await source.read(65536):
            sink.write(chunk)
            await sink.drain()


def _injected_answer(injection: _Injection, origin: str | None) -> bytes:
    body = json.dumps(
        {"error": injection.error, "request_id": "fault-proxy", "message": "Injected."}
    ).encode()
    cors = (
        f"Access-Control-Allow-Origin: {origin}\r\n"
        "Access-Control-Allow-Credentials: true\r\n"
        "Access-Control-Expose-Headers: Retry-After, X-Request-ID\r\n"
        "Vary: Origin\r\n"
        if origin
        else ""
    )
    head = (
        f"HTTP/1.1 {injection.status} Injected\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Retry-After: {injection.retry_after}\r\n"
        "X-Request-ID: fault-proxy\r\n"
        f"{cors}"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + body
