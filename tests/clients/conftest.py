"""Real clients against a real `solo serve`: generated SDKs and a browser."""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import subprocess

import pytest

from solo.security.bearer import mint_token
from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.server import LiveServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "clients" / "node_modules"
NODE_BIN = NODE_MODULES / ".bin"
USER = "олена"


def node_tools() -> pathlib.Path:
    """clients/node_modules, which `make test` installs with `npm ci`."""
    if not NODE_BIN.is_dir():
        pytest.fail("clients/node_modules is missing: `make test` installs it (npm ci in clients/)")
    return NODE_MODULES


def start_server(root: pathlib.Path, **overrides) -> tuple[LiveServer, Settings]:
    """`solo serve` on SQLite and a local snapshot folder under `root`."""
    settings = Settings(
        database_url=f"sqlite:///{root}/solo.db",
        storage_url=f"file://{root}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
        **overrides,
    )
    return LiveServer(server_env(settings), log_path=root / "server.log"), settings


def token(settings: Settings, user: str = USER) -> str:
    return mint_token(settings, user, 3600, dt.datetime.now(dt.UTC))


def run(command: list, *, cwd: pathlib.Path | None = None, env: dict | None = None, timeout=300):
    """Run a tool; its whole output is the failure message if it fails or warns."""
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def assert_no_warning(output: str) -> None:
    warnings = [line for line in output.splitlines() if "warn" in line.lower() or "⚠" in line]
    assert not warnings, output


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server, settings = start_server(tmp_path_factory.mktemp("server"))
    yield server, settings
    server.stop()
