"""A real browser (Debian's Chromium through Playwright) on a page of another origin.

The editor's page is served from one origin and the API from another, with
SOLO_CORS_ORIGINS naming the page's: fetch with If-Match and the 412, a Worker posting the
gzipped state, a snapshot download, two tabs where the second follows the first's diff
through EventSource and the change feed, and sendBeacon on pagehide (a string and a JSON
Blob).
"""

from __future__ import annotations

import http.server
import json
import os
import pathlib
import shutil
import subprocess
import threading
import time

import httpx2
import pytest
import sqlalchemy as sa

from tests.clients.conftest import node_tools, start_server, token
from tests.support.server import free_port

CHROMIUM = pathlib.Path("/usr/bin/chromium")
SCRIPT = pathlib.Path(__file__).with_name("browser.mjs")
STATE = {"назва": "Чернетка", "блоки": ["Перший абзац"]}
WHOLE = {"назва": "Збережено з воркера", "блоки": ["абзац"] * 200}
TEXT_BEACON = {"подія": "pagehide", "як": "рядок"}
BLOB_BEACON = {"подія": "pagehide", "як": "Blob application/json"}
PAGE = b"<!doctype html><meta charset=utf-8><title>Solo editor</title><p>Solo"


@pytest.fixture(scope="module")
def chromium() -> pathlib.Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: .ci/run installs chromium")
        pytest.skip(
            "THE BROWSER TESTS DID NOT RUN: /usr/bin/chromium is missing "
            "(apt-get install -y chromium)"
        )
    return CHROMIUM


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def page_origin():
    """The editor's origin: the same host as the API, another port."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope="module")
def api(tmp_path_factory, page_origin):
    server, settings = start_server(tmp_path_factory.mktemp("browser"), cors_origins=(page_origin,))
    yield server, settings
    server.stop()


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> pathlib.Path:
    """browser.mjs where Node finds playwright-core: next to clients/node_modules."""
    work = tmp_path_factory.mktemp("browser-script")
    (work / "node_modules").symlink_to(node_tools(), target_is_directory=True)
    shutil.copyfile(SCRIPT, work / SCRIPT.name)
    return work / SCRIPT.name


def drive_browser(script: pathlib.Path, browser_input: dict, database_url: str):
    """The script's phase reports, and the beacons the database holds once they arrived."""
    with subprocess.Popen(
        ["node", str(script)],
        env={**os.environ, "SOLO_BROWSER_INPUT": json.dumps(browser_input)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as node:
        try:
            phases = {}
            for line in node.stdout:
                report = json.loads(line)
                phases[report.pop("phase")] = report
                if "beacons" in phases:
                    break
            beacons = wait_for_beacons(database_url, 2) if "beacons" in phases else []
            if node.poll() is None:
                node.stdin.write("seen\n")
                node.stdin.flush()
            node.wait(timeout=60)
        finally:
            if node.poll() is None:
                node.kill()
        errors = node.stderr.read()
    assert node.returncode == 0, errors
    return phases, beacons


def telemetry(database_url: str) -> list:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT payload FROM telemetry_events")).scalars()
            return sorted(json.dumps(json.loads(row), ensure_ascii=False) for row in rows)
    finally:
        engine.dispose()


def wait_for_beacons(database_url: str, count: int, seconds: float = 20) -> list:
    deadline = time.monotonic() + seconds
    events = telemetry(database_url)
    while len(events) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        events = telemetry(database_url)
    return events


def test_a_page_on_another_origin_autosaves_through_the_browser(chromium, script, api, page_origin):
    server, settings = api
    bearer = token(settings)
    auth = {"Authorization": f"Bearer {bearer}"}
    created = httpx2.post(f"{server.api_url}/sessions/", json={"state": STATE}, headers=auth)
    session_id = created.json()["id"]
    browser_input = {
        "pageUrl": f"{page_origin}/editor",
        "apiUrl": server.api_url,
        "token": bearer,
        "sessionId": session_id,
        "state": WHOLE,
        "text": json.dumps(TEXT_BEACON, ensure_ascii=False),
        "blob": json.dumps(BLOB_BEACON, ensure_ascii=False),
    }
    phases, beacons = drive_browser(script, browser_input, settings.database_url)

    fetched = phases["fetch"]
    assert fetched["read"]["etag"] == '"0"'
    assert fetched["written"] == {
        "status": 200,
        "etag": '"1"',
        "requestId": fetched["written"]["requestId"],
        "body": {"rev": 1, "updated_at": fetched["written"]["body"]["updated_at"]},
    }
    stale = fetched["stale"]
    assert stale == {
        "status": 412,
        "etag": '"1"',
        "requestId": stale["requestId"],
        "body": {
            "error": "precondition_failed",
            "request_id": stale["requestId"],
            "message": "The session has changed: refetch it and retry.",
            "reason": "mismatch",
        },
    }

    worker = phases["worker"]
    assert worker["gzippedBytes"] < len(json.dumps(WHOLE, ensure_ascii=False).encode())
    assert worker == {
        "status": 200,
        "etag": '"2"',
        "body": {"rev": 2, "updated_at": worker["body"]["updated_at"]},
        "gzippedBytes": worker["gzippedBytes"],
    }

    snapshot = phases["snapshot"]
    link = snapshot["link"]
    assert link == {
        "rev": 2,
        "url": link["url"],
        "expires_at": link["expires_at"],
        "name": None,
        "pinned": False,
    }
    assert link["url"].startswith(f"{server.api_url}/files/")
    assert snapshot["downloadStatus"] == 200
    assert snapshot["document"] == {
        "session_id": session_id,
        "rev": 2,
        "created_at": snapshot["document"]["created_at"],
        "state": WHOLE,
    }

    tabs = phases["twoTabs"]
    assert tabs["listening"] == 1
    assert tabs["written"]["status"] == 200
    caught_up = tabs["followed"]
    assert [(event["id"], event["rev"]) for event in caught_up["events"]] == [("2", 2), ("3", 3)]
    assert caught_up["rev"] == tabs["written"]["body"]["rev"] == 3
    assert caught_up["state"] == {**WHOLE, "з-першої-вкладки": "привіт"}
    assert caught_up["requested"] == [
        f"/api/v1/solo/sessions/{session_id}/",
        f"/api/v1/solo/sessions/{session_id}/changes/",
    ]

    assert phases["beacons"] == {"pageErrors": []}
    assert beacons == sorted(
        json.dumps(event, ensure_ascii=False) for event in (TEXT_BEACON, BLOB_BEACON)
    )
    session = httpx2.get(f"{server.api_url}/sessions/{session_id}/", headers=auth).json()
    assert (session["rev"], session["state"]) == (3, caught_up["state"])
    assert session["last_seen_at"] is not None
