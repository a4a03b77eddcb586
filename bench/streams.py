"""Many idle event streams: what each costs the server, and how fast a revision reaches one.

Starts `solo serve` (one process) on a fresh database, creates one session per user, opens
one `GET /sessions/{id}/events/` per session from an asyncio client (raw sockets, so the
client costs little), and reports the server's resident memory before and after, per
stream; then writes to sessions one at a time through a second server process on the same
database (another process, as a second tab's device would be) and times each revision
from the write's answer to its event on the open stream.

Usage: .venv/bin/python -m bench.streams [--streams 500] [--db sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import statistics
import tempfile
import time

import httpx2

from bench.api import Writer, create_sessions
from bench.stack import API, SECRET, Server, fresh_database, start_solo

WRITES_TIMED = 50
EVENT_TIMEOUT_SECONDS = 5


def resident_kib(server: Server) -> int:
    status = pathlib.Path(f"/proc/{server.pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))


async def open_stream(
    port: int, writer: Writer
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, stream = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"GET {API}/sessions/{writer.session_id}/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {writer.authorization}\r\nAccept: text/event-stream\r\n\r\n"
    )
    stream.write(request.encode())
    await stream.drain()
    await next_event(reader)
    return reader, stream


async def next_event(reader: asyncio.StreamReader) -> bytes:
    """The next `id:` line of the stream (headers and heartbeats are skipped)."""
    while True:
        line = await asyncio.wait_for(reader.readline(), EVENT_TIMEOUT_SECONDS)
        if not line:
            raise ConnectionError("the stream ended")
        if line.startswith(b"id: "):
            return line


async def measure(streamer: Server, writer_server: Server, writers: list[Writer]) -> dict:
    before = resident_kib(streamer)
    streams = [await open_stream(streamer.port, writer) for writer in writers]
    await asyncio.sleep(1)
    after = resident_kib(streamer)
    latencies = []
    async with httpx2.AsyncClient(base_url=writer_server.base_url + API, timeout=30) as http:
        for index in range(WRITES_TIMED):
            writer = writers[index * len(writers) // WRITES_TIMED]
            reader = streams[writers.index(writer)][0]
            sent = time.perf_counter()
            response = await http.patch(
                f"/sessions/{writer.session_id}/diff/",
                json={"ops": [{"op": "add", "path": f"/крок{index}", "value": index}]},
                headers={"Authorization": writer.authorization, "If-Match": "*"},
            )
            assert response.status_code == 200, response.text
            await next_event(reader)
            latencies.append(time.perf_counter() - sent)
    for _, stream in streams:
        stream.close()
    latencies.sort()
    return {
        "streams": len(streams),
        "rss_before_mib": before / 1024,
        "rss_after_mib": after / 1024,
        "kib_per_stream": (after - before) / len(streams),
        "latency_p50_ms": statistics.median(latencies) * 1000,
        "latency_max_ms": latencies[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    for kind in args.db.split(","):
        with tempfile.TemporaryDirectory(prefix="solo-streams-") as tmp:
            folder = pathlib.Path(tmp)
            with fresh_database(kind, args.postgres_url, folder) as url:
                streamer = start_solo(url, 1, folder)
                writer_server = start_solo(url, 1, folder)
                try:
                    users = [f"читач{n}" for n in range(args.streams)]
                    writers = create_sessions(streamer.base_url + API, users, SECRET, b"{}")
                    result = asyncio.run(measure(streamer, writer_server, writers))
                finally:
                    writer_server.stop()
                    streamer.stop()
        print(
            f"{kind:<11} {result['streams']} streams: server RSS "
            f"{result['rss_before_mib']:.0f} → {result['rss_after_mib']:.0f} MiB "
            f"({result['kib_per_stream']:.1f} KiB per stream); a write through another "
            f"process reached its stream in p50 {result['latency_p50_ms']:.0f} ms, "
            f"max {result['latency_max_ms']:.0f} ms ({WRITES_TIMED} writes)"
        )


if __name__ == "__main__":
    main()
