"""schemathesis against the live server: every check and phase, zero failures."""

import datetime as dt
import os
import pathlib
import subprocess
import sys

import pytest

from solo.security.bearer import mint_token
from tests.conftest import server_env
from tests.support.server import LiveServer

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCHEMATHESIS = pathlib.Path(sys.executable).with_name("schemathesis")


@pytest.mark.slow(80)
def test_schemathesis_finds_no_failure(settings, tmp_path):
    server = LiveServer(server_env(settings), log_path=tmp_path / "server.log")
    try:
        token = mint_token(settings, "фаззер", 3600, dt.datetime.now(dt.UTC))
        env = {
            **os.environ,
            "SOLO_SCHEMATHESIS_URL": server.api_url,
            "SOLO_SCHEMATHESIS_TOKEN": token,
            "NO_COLOR": "1",
        }
        result = subprocess.run(
            [str(SCHEMATHESIS), "run", "openapi/solo.yaml"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
