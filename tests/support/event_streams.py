"""An EventSource of sorts, for tests against live servers."""

from __future__ import annotations

import contextlib
import queue
import socket
import threading
from urllib.parse import urlsplit

import httpx2

from tests.support.spec import assert_event_conforms

SECOND = 1.0


class Stream:
    """An EventSource of sorts: reads events on a thread into a queue."""

    def __init__(self, url: str, headers: dict[str, str] | None = None) -> None:
        self.events: queue.Queue = queue.Queue()
        self.opened = threading.Event()
        self._client = httpx2.Client(timeout=httpx2.Timeout(5, read=None))
        self._thread = threading.Thread(target=self._read, args=(url, headers or {}), daemon=True)
        self._thread.start()
        assert self.opened.wait(5), "the stream did not open"

    def _read(self, url: str, headers: dict[str, str]) -> None:
        with (
            contextlib.suppress(httpx2.TransportError),
            self._client.stream("GET", url, headers=headers) as response,
        ):
            self.response = response
            self.opened.set()
            block: list[str] = []
            for line in response.iter_lines():
                if line:
                    block.append(line)
                    continue
                fields = dict(entry.split(": ", 1) for entry in block if not entry.startswith(":"))
                if fields:
                    self.events.put(fields)
                block = []
        self.events.put(None)

    def next(self, within: float = SECOND * 2):
        """The next event, held to the spec (None once the stream has ended)."""
        event = self.events.get(timeout=within)
        if event is not None:
            assert_event_conforms(event)
        return event

    def close(self) -> None:
        self._client.close()

    def revs_until(self, rev: int, within: float) -> list[int]:
        """The ids of the `rev` events read until `rev` (AssertionError if it has not come
        within `within` seconds, or the stream ended)."""
        ids: list[int] = []
        while not ids or ids[-1] < rev:
            try:
                event = self.next(within)
            except queue.Empty:
                raise AssertionError(
                    f"rev {rev} has not come; the stream is at {ids[-1:]}"
                ) from None
            assert event is not None and event["event"] == "rev", (ids, event)
            ids.append(int(event["id"]))
        return ids


class HeldStream:
    """A stream held open on a plain socket and read by nobody: cheap to hold by the dozen,
    and closing it closes its connection at once (the server sees its client go)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self._sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        lines = [
            f"GET {parts.path} HTTP/1.1",
            f"Host: {parts.netloc}",
            *(f"{name}: {value}" for name, value in headers.items()),
        ]
        self._sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self._data = b""
        self.status = int(self._read_until(b"\r\n\r\n").split(b" ", 2)[1])

    def first_event(self) -> bytes:
        """The first event's chunk of a stream answered 200."""
        return self._read_until(b"\n\n\r\n").partition(b"\r\n\r\n")[2]

    def _read_until(self, ending: bytes) -> bytes:
        while ending not in self._data:
            chunk = self._sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed after {self._data!r}")
            self._data += chunk
        return self._data

    def close(self) -> None:
        self._sock.close()
