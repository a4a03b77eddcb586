"""One user opens hundreds of event streams on a server with few file descriptors.

Starts `solo serve` (one process, SQLite) under `prlimit --nofile=N:N`; one user opens
`--streams` streams over 20 of their sessions (raw sockets, a token valid for `--ttl`
seconds), `--at-once` attempts in flight, each refused one closed as soon as its answer is
read (as an EventSource does). Reports the answers (200; 429 by scope; 503), how long
another user's create and `/healthz` took while the streams were held, and how each open
stream ended (`event: expired` at its token's expiry, then the chunked terminator).

With `--at-once` as large as `--streams`, every attempt is a connection, so a descriptor,
at the same moment: past the process's open files limit no cap on streams can help (the
connections themselves are what runs out), which is why `solo serve` raises its soft limit
to the hard one and the README asks for a hard limit sized to the streams a process holds.

Usage: .venv/bin/python -m bench.stream_flood [--streams 300] [--at-once 32]
       [--open-files 256] [--ttl 15]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import json
import pathlib
import tempfile
import time

import httpx2

from bench.stack import API, BIN, SECRET, Server, solo_env
from solo.security.bearer import mint_token
from solo.settings import Settings

SESSIONS = 20
END_SLACK_SECONDS = 5


class Flood:
    def __init__(self, port: int, token: str, at_once: int) -> None:
        self.port, self.token = port, token
        self.gate = asyncio.Semaphore(at_once)
        self.answers: collections.Counter[str] = collections.Counter()
        self.held: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def attempt(self, session_id: str) -> None:
        """One stream: held if answered 200, else closed once its answer is read."""
        async with self.gate:
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(
                    (
                        f"GET {API}/sessions/{session_id}/events/ HTTP/1.1\r\n"
                        f"Host: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n\r\n"
                    ).encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
            except (OSError, asyncio.IncompleteReadError) as exc:
                self.answers[type(exc).__name__] += 1
                return
            status = int(head.split(b" ", 2)[1])
            if status == 200:
                self.held.append((reader, writer))
                self.answers["200"] += 1
                return
            self.answers[f"{status} {await refusal(reader, head)}"] += 1
            writer.close()


async def refusal(reader: asyncio.StreamReader, head: bytes) -> str:
    """The error code (and scope) of a refusal's JSON body, or its content type."""
    fields = dict(line.lower().split(b": ", 1) for line in head.split(b"\r\n")[1:] if line)
    body = await reader.readexactly(int(fields.get(b"content-length", b"0")))
    if not fields.get(b"content-type", b"").startswith(b"application/json"):
        return fields.get(b"content-type", b"no content type").decode()
    answer = json.loads(body)
    return f"{answer['error']} {answer.get('scope', '')}".strip()


async def ending(reader: asyncio.StreamReader, deadline: float) -> tuple[str, float]:
    """How the stream ended ("expired, terminated": its last event, then the chunked
    terminator; the connection stays open for another request) and when."""
    data = b""
    try:
        while not data.endswith(b"\r\n0\r\n\r\n"):
            chunk = await asyncio.wait_for(reader.read(65536), deadline - time.time())
            if not chunk:
                return f"cut: {data[-60:]!r}", time.time()
            data += chunk
    except TimeoutError:
        return f"still open: {data[-60:]!r}", time.time()
    said = "expired, terminated" if b"event: expired" in data else repr(data[-60:])
    return said, time.time()


async def bystander(server: Server) -> str:
    token = mint_token(Settings(jwt_secret=SECRET), "інший", 600, dt.datetime.now(dt.UTC))
    async with httpx2.AsyncClient(base_url=server.base_url + API, timeout=10) as http:
        started = time.perf_counter()
        created = await http.post(
            "/sessions/", json={}, headers={"Authorization": f"Bearer {token}"}
        )
        create_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        health = await http.get("/healthz")
        health_ms = (time.perf_counter() - started) * 1000
    return (
        f"create {created.status_code} in {create_ms:.0f} ms, "
        f"/healthz {health.status_code} in {health_ms:.0f} ms"
    )


async def measure(
    server: Server, sessions: list[str], token: str, args: argparse.Namespace, expires_at: int
) -> str:
    flood = Flood(server.port, token, args.at_once)
    await asyncio.gather(*(flood.attempt(sessions[n % SESSIONS]) for n in range(args.streams)))
    meanwhile = await bystander(server)
    endings = await asyncio.gather(
        *(ending(reader, expires_at + END_SLACK_SECONDS) for reader, _ in flood.held)
    )
    for _, writer in flood.held:
        writer.close()
    late = max((at - expires_at for _, at in endings), default=0.0)
    return (
        f"{args.streams} streams of one user ({args.at_once} at once), {args.open_files} open "
        f"files: answered {dict(flood.answers)}; meanwhile another user's {meanwhile}; the "
        f"open streams ended {dict(collections.Counter(said for said, _ in endings))}, "
        f"the last {late:.2f} s after their token's expiry"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--at-once", type=int, default=32)
    parser.add_argument("--open-files", type=int, default=256)
    parser.add_argument("--ttl", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="solo-flood-") as tmp:
        folder = pathlib.Path(tmp)
        limit = f"--nofile={args.open_files}:{args.open_files}"
        argv = ["prlimit", limit, str(BIN / "solo"), "serve", "--workers", "1"]
        env = solo_env(f"sqlite:///{folder}/solo.db", folder)
        server = Server(argv, env, API + "/readyz", folder / "solo.log")
        try:
            now = dt.datetime.now(dt.UTC)
            token = mint_token(Settings(jwt_secret=SECRET), "потоки", args.ttl, now)
            expires_at = int((now + dt.timedelta(seconds=args.ttl)).timestamp())
            authorization = {"Authorization": f"Bearer {token}"}
            with httpx2.Client(base_url=server.base_url + API, timeout=10) as http:
                sessions = [
                    http.post("/sessions/", json={}, headers=authorization).json()["id"]
                    for _ in range(SESSIONS)
                ]
            print(asyncio.run(measure(server, sessions, token, args, expires_at)))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
