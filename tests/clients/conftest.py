"""Real clients against a real `solo serve`: generated SDKs and a browser."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import pathlib
import subprocess
from collections.abc import Iterator

import pytest

from solo.security.bearer import mint_token
from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.server import LiveServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "clients" / "node_modules"
NODE_BIN = NODE_MODULES / ".bin"
AUTOSAVE = ROOT / "clients" / "autosave"
BUNDLE = AUTOSAVE / "dist" / "solo-autosave.bundle.js"
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


@contextlib.contextmanager
def autosave_building() -> Iterator[None]:
    """The autosave package's builds one at a time, over every xdist worker: `npm run
    build`, `npm test` and `npm pack` all write src/generated and dist, and two at once
    could read each other's half-written files."""
    if not (AUTOSAVE / "node_modules").is_dir():
        pytest.fail("clients/autosave/node_modules is missing: `make test` runs npm ci there")
    with open(AUTOSAVE / "node_modules" / ".tests-build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def built_autosave() -> pathlib.Path:
    """The package built from its sources (types from the spec, tsc, the page's bundle),
    once for all the modules and workers that need it: a stamp named by the sources'
    digest says it was (in node_modules, which `npm pack` leaves out; dist/ ships)."""
    with autosave_building():
        stamp = AUTOSAVE / "node_modules" / f".tests-built-{_autosave_sources_digest()}"
        if not (stamp.exists() and BUNDLE.exists()):
            run(["npm", "run", "--silent", "build"], cwd=AUTOSAVE)
            stamp.touch()
    return AUTOSAVE


def _autosave_sources_digest() -> str:
    sources = sorted((AUTOSAVE / "src").glob("*.ts"))
    sources += [AUTOSAVE / name for name in ("package.json", "package-lock.json", "tsconfig.json")]
    digest = hashlib.sha256()
    for source in [*sources, ROOT / "openapi" / "solo.yaml"]:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]
