"""moto's S3 in server mode: real HTTP, real boto3, real presigned URLs."""

from __future__ import annotations

import contextlib
import pathlib
import signal
import subprocess
import sys
import time

import httpx2

from tests.support.server import free_port

MOTO_SERVER = pathlib.Path(sys.executable).with_name("moto_server")
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "solo-tests",
    "AWS_SECRET_ACCESS_KEY": "solo-tests-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class MotoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._process = subprocess.Popen(
            [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx2.TransportError):
                httpx2.get(self.endpoint_url, timeout=1)
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("moto_server did not start")

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted by the kernel, and never answered."""
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self._process.terminate()
        self._process.wait(timeout=20)
