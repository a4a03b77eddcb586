"""Real `solo serve` processes on loopback, for tests that need sockets and processes."""

from __future__ import annotations

import contextlib
import itertools
import os
import pathlib
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import httpx2

SOLO = pathlib.Path(sys.executable).with_name("solo")
STARTUP_SECONDS = 60


PORTS_PER_WORKER = 1000
FIRST_PORT = 20000
"""Below the kernel's ephemeral range (32768 and up here): no port it hands out itself."""
_next_port = itertools.count()


def free_port() -> int:
    """A port free now that no other server of this test run is given. Asking the kernel
    for a free one raced: it may offer a port it just offered to the other xdist worker,
    whose server then answered this one's readiness check. So each worker walks a range of
    its own, below the ephemeral ports, skipping any port in use."""
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    first = FIRST_PORT + worker * PORTS_PER_WORKER
    for offset in _next_port:
        if offset >= PORTS_PER_WORKER:
            break
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", first + offset))
            except OSError:
                continue
        return first + offset
    raise RuntimeError(f"no free port left in {first}–{first + PORTS_PER_WORKER - 1}")


class LiveServer:
    def __init__(
        self,
        env: dict[str, str],
        workers: int = 1,
        log_path: pathlib.Path | None = None,
        solo: pathlib.Path = SOLO,
        cwd: pathlib.Path | None = None,
        open_files: tuple[int, int] | None = None,
        wait: bool = True,
    ):
        """`open_files`: the (soft, hard) RLIMIT_NOFILE the server starts with; `wait`:
        return once it is ready (else call `wait_until_ready`)."""
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.api_url = self.base_url + "/api/v1/solo"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SOLO_")}
        self._log = open(log_path or os.devnull, "wb")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [str(solo), "serve", "--port", str(self.port), "--workers", str(workers)],
            env={**clean, **env},
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=None if open_files is None else _limiting_open_files(open_files),
        )
        self._terminated = False
        if wait:
            self.wait_until_ready()

    @property
    def pid(self) -> int:
        return self._process.pid

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"solo serve exited with {self._process.returncode}")
            with contextlib.suppress(httpx2.TransportError):
                if httpx2.get(self.api_url + "/readyz", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("solo serve did not become ready")

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        self._process.kill()
        self._process.wait()
        self._log.close()

    def terminate(self) -> None:
        """SIGTERM, once (a second one would make uvicorn skip its graceful shutdown)."""
        if not self._terminated and self._process.poll() is None:
            self._process.terminate()
            self._terminated = True

    def stop(self) -> None:
        if self._process.poll() is None:
            self.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()


@contextlib.contextmanager
def live_servers(
    env: dict[str, str], *, count: int, log_dir: pathlib.Path, workers: int = 1
) -> Iterator[list[LiveServer]]:
    """`count` servers of one configuration, started side by side, stopped afterwards
    (also side by side)."""
    started: list[LiveServer] = []
    try:
        for index in range(count):
            log_path = log_dir / f"server-{index}.log"
            started.append(LiveServer(env, workers=workers, log_path=log_path, wait=False))
        for server in started:
            server.wait_until_ready()
        yield started
    finally:
        for server in started:
            server.terminate()
        for server in started:
            server.stop()


def _limiting_open_files(limit: tuple[int, int]) -> Callable[[], None]:
    def limiting() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, limit)

    return limiting
