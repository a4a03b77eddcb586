"""The wheel carries the spec: `solo serve` works from an installed package, outside a checkout."""

import os
import pathlib
import subprocess
import sys
import sysconfig
import zipfile

import httpx2
import pytest

from solo.web.spec import load_spec
from tests.conftest import TEST_JWT_SECRET
from tests.support.server import LiveServer

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run(*command, cwd=None):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.slow(10)
def test_an_installed_wheel_serves_its_spec_from_outside_the_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        ".",
        "--no-deps",
        "--no-build-isolation",
        "--quiet",
        "--wheel-dir",
        str(wheels),
        cwd=ROOT,
    )
    (wheel,) = wheels.glob("solo-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("solo/openapi.yaml") == (ROOT / "openapi/solo.yaml").read_bytes()

    # A fresh environment: the wheel, and the dependencies (not solo) borrowed from this one.
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", str(venv))
    site = pathlib.Path(
        sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
    )
    (site / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n")
    run(
        str(venv / "bin/python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
        str(wheel),
    )
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    server = LiveServer(
        {
            "SOLO_DATABASE_URL": f"sqlite:///{outside}/solo.db",
            "SOLO_STORAGE_URL": f"file://{outside}/snapshots",
            "SOLO_JWT_SECRET": TEST_JWT_SECRET,
            "PATH": os.environ["PATH"],
        },
        log_path=tmp_path / "server.log",
        solo=venv / "bin/solo",
        cwd=outside,
    )
    try:
        document = httpx2.get(f"{server.api_url}/openapi.json", timeout=10)
    finally:
        server.stop()
    assert document.json() == load_spec()
    imported = run(str(venv / "bin/python"), "-c", "import solo; print(solo.__file__)", cwd=outside)
    assert imported.stdout.startswith(str(site))
