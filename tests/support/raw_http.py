"""HTTP/1.1 over a plain socket: exact control of Content-Length, chunking and timing."""

from __future__ import annotations

import dataclasses
import json
import socket


@dataclasses.dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    closed_by_server: bool | None
    """Whether the server closed the connection after answering (None: not waited for)."""

    def json(self):
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes = b"",
    *,
    chunked: bool = False,
    content_length: int | None = None,
    send_body: bool = True,
    chunk_size: int = 64 * 1024,
    wait_for_close: bool = False,
) -> RawResponse:
    """Send one request; `content_length` may lie, and `send_body=False` sends none at all."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        if send_body:
            _send_body(sock, body, chunked, chunk_size)
        return read_response(sock, wait_for_close)


def _send_body(sock: socket.socket, body: bytes, chunked: bool, chunk_size: int) -> None:
    try:
        for start in range(0, len(body), chunk_size):
            piece = body[start : start + chunk_size]
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        # The server may answer (413) and close before it has read everything: that is
        # the behaviour under test, and the answer is still waiting to be read.
        pass


def read_response(sock: socket.socket, wait_for_close: bool) -> RawResponse:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a response: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    closed = _closed(sock) if wait_for_close else None
    return RawResponse(int(status_line.split()[1]), headers, rest[:length], closed)


def _closed(sock: socket.socket) -> bool:
    sock.settimeout(2)  # well under uvicorn's 5 s keep-alive timeout
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
