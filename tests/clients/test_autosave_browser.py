"""The autosave client (clients/autosave) in Debian's Chromium, against a real `solo serve`.

The example editor page is served from another origin than the API, and reaches the API
through tests/support/fault_proxy.py, which can drop answers after the server applied them,
go offline, hold answers, answer 429/503 itself, and follow a restarted server. Keystrokes
are real (Playwright types into the page's textareas); the server's state is read directly.

Durations are shorter than issue 19's (offline for seconds, not 20 s; two tabs for seconds,
not 30 s) to keep the whole file within a couple of minutes; the points stay the same.

The client's default is the server's rebase (`If-Match: *` + `Solo-Base-Rev`). Until the
spec declares that header (issue 15), the page runs with `rebase=client`: every write chains
on its base's ETag and a 412 is rebased locally.
"""

from __future__ import annotations

import http.server
import itertools
import json
import os
import pathlib
import shutil
import subprocess
import threading
import time
import urllib.parse
import uuid

import httpx2
import pytest

from tests.clients.conftest import ROOT, built_autosave, node_tools, start_server, token
from tests.support.fault_proxy import FaultProxy
from tests.support.server import free_port

CHROMIUM = pathlib.Path("/usr/bin/chromium")
PACKAGE = ROOT / "clients" / "autosave"
DRIVER = pathlib.Path(__file__).with_name("autosave_driver.mjs")
SERVER_REBASE = "Solo-Base-Rev" in (ROOT / "openapi" / "solo.yaml").read_text()
FIRST = "Перший абзац"
FAST = {"debounce": 50, "maxWait": 200, "minInterval": 100}
STATUS = "() => window.soloAutosave.status.kind"
SAVED = "() => window.soloAutosave.status.kind === 'saved' && !window.soloAutosave.status.pending"
WHERE = "() => [window.soloAutosave.status, window.soloAutosave.rev, window.soloEvents.statuses]"
LARGE = """() => {
  const block = (i) => `${i} ` + "Довгий абзац тексту. ".repeat(52);
  window.soloAutosave.update((state) => ({ ...state, блоки: Array.from({ length: 1000 }, block) }));
  window.soloRender(window.soloAutosave.state);
}"""
BLOCK = "textarea[data-index='{}']"
RETITLE = "() => window.soloAutosave.update((state) => ({ ...state, назва: 'Велика' }))"


@pytest.fixture(scope="module")
def chromium() -> pathlib.Path:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: .ci/run installs chromium")
        pytest.skip("THE BROWSER TESTS DID NOT RUN: /usr/bin/chromium is missing")
    return CHROMIUM


@pytest.fixture(scope="module")
def built() -> pathlib.Path:
    return built_autosave()


class _Static(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(PACKAGE), **kwargs)

    def log_message(self, *args) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def page_origin(built):
    """clients/autosave (the example page and its bundle) on an origin of its own."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Static)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture(scope="module")
def api(tmp_path_factory, page_origin):
    """The server, shared by the module's tests (each edits a session of its own, as a
    user of its own); a test that restarts it puts the new one in the holder."""
    root = tmp_path_factory.mktemp("server")
    server, settings = start_server(root, cors_origins=(page_origin,))
    holder = {"server": server}
    yield holder, settings, root
    holder["server"].stop()


@pytest.fixture
def proxy(api):
    holder, _settings, _root = api
    faults = FaultProxy(holder["server"].port)
    yield faults
    faults.stop()


class Driver:
    """The Node script's commands, answered by id; `start` and `result` run them concurrently."""

    def __init__(self, script: pathlib.Path):
        self._process = subprocess.Popen(
            ["node", str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._ids = itertools.count()
        self._answers: dict[int, dict] = {}

    def __call__(self, op: str, **args):
        return self.result(self.start(op, **args))

    def start(self, op: str, **args) -> int:
        command_id = next(self._ids)
        self._process.stdin.write(json.dumps({"id": command_id, "op": op, **args}) + "\n")
        self._process.stdin.flush()
        return command_id

    def result(self, command_id: int):
        while command_id not in self._answers:
            line = self._process.stdout.readline()
            if not line:
                raise AssertionError(f"the browser driver died: {self._process.stderr.read()}")
            answer = json.loads(line)
            self._answers[answer["id"]] = answer
        answer = self._answers.pop(command_id)
        if "error" in answer:
            raise AssertionError(answer["error"])
        return answer["ok"]

    def quit(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.write('{"op": "quit"}\n')
            self._process.stdin.close()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process.stdout.close()
        self._process.stderr.close()


@pytest.fixture(scope="module")
def chromium_driver(chromium, tmp_path_factory):
    """One Chromium for the module (a launch costs seconds); each test has contexts of
    its own, closed after it (`browser`)."""
    work = tmp_path_factory.mktemp("driver")
    (work / "node_modules").symlink_to(node_tools(), target_is_directory=True)
    shutil.copyfile(DRIVER, work / DRIVER.name)
    driver = Driver(work / DRIVER.name)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium_driver):
    """The module's Chromium; after the test its contexts and tabs are closed, and no page
    may have thrown meanwhile."""
    yield chromium_driver
    assert chromium_driver("reset") == []


class Editor:
    """One session, and tabs of the example page on it through the proxy."""

    def __init__(self, browser: Driver, api, proxy: FaultProxy, page_origin: str):
        holder, settings, _root = api
        self.browser = browser
        self.holder = holder
        self.proxy = proxy
        self.page_origin = page_origin
        self.bearer = token(settings, f"олена-{uuid.uuid4().hex[:8]}")
        created = httpx2.post(
            f"{holder['server'].api_url}/sessions/",
            json={"state": {"назва": "Чернетка", "блоки": [FIRST]}},
            headers=self.auth,
        )
        self.session_id = created.json()["id"]

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.bearer}"}

    def url(self, **options) -> str:
        fragment = {
            "api": f"{self.proxy.url}/api/v1/solo",
            "token": self.bearer,
            "session": self.session_id,
            **({} if SERVER_REBASE else {"rebase": "client"}),
            **{name: str(value) for name, value in options.items()},
        }
        return f"{self.page_origin}/example/index.html#{urllib.parse.urlencode(fragment)}"

    def open(self, context: str, **options) -> str:
        return self.browser("open", context=context, url=self.url(**options))

    def server(self) -> dict:
        url = f"{self.holder['server'].api_url}/sessions/{self.session_id}/"
        return httpx2.get(url, headers=self.auth).json()

    def changes(self) -> list:
        url = f"{self.holder['server'].api_url}/sessions/{self.session_id}/changes/"
        query = {"since": 0, "limit": 1000}
        return httpx2.get(url, params=query, headers=self.auth).json()["changes"]

    def saved(self, tab: str, timeout: int = 30_000) -> None:
        try:
            self.browser("waitFor", tab=tab, js=SAVED, timeout=timeout)
        except AssertionError:
            status = self.browser("eval", tab=tab, js=WHERE)
            log = [(e.method, e.path[-12:], e.outcome, e.status) for e in self.proxy.log[-12:]]
            raise AssertionError(f"not saved: {status}; last requests {log}") from None

    def caught_up(self, tab: str) -> None:
        """The tab shows the server's state (remote revisions arrive through events)."""
        state = self.server()["state"]
        self.browser(
            "waitFor",
            tab=tab,
            js="(state) => JSON.stringify(window.soloAutosave.state) === JSON.stringify(state)",
            arg=state,
        )

    def block(self, tab: str, index: int) -> str:
        return self.browser("eval", tab=tab, js=f"() => window.soloAutosave.state.блоки[{index}]")

    def conflicts(self, tab: str) -> list:
        return self.browser("eval", tab=tab, js="() => window.soloEvents.conflicts")


@pytest.fixture
def editor(browser, api, proxy, page_origin) -> Editor:
    return Editor(browser, api, proxy, page_origin)


def keystrokes(count: int) -> str:
    """`count` characters that make any lost, doubled or reordered keystroke visible."""
    letters = "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
    return "".join(letters[i % len(letters)] if i % 7 else str(i // 7 % 10) for i in range(count))


@pytest.mark.slow(15)
def test_edits_typed_offline_land_once_and_in_order(editor):
    browser = editor.browser
    context = browser("context")
    tab = editor.open(context)
    browser("offline", context=context, value=True)
    typed = keystrokes(200)
    browser("type", tab=tab, selector="textarea", text=typed, delay=25)
    browser("waitFor", tab=tab, js=f"{STATUS} === 'offline'")
    assert editor.server()["state"]["блоки"] == [FIRST]
    browser("offline", context=context, value=False)
    editor.saved(tab)
    assert editor.server()["state"] == {"назва": "Чернетка", "блоки": [FIRST + typed]}
    assert editor.block(tab, 0) == FIRST + typed
    assert len(editor.changes()) <= 3


@pytest.mark.slow(10)
def test_answers_dropped_after_the_server_applied_them_neither_duplicate_nor_lose(editor):
    browser = editor.browser
    editor.proxy.drop_rate = 0.3
    tab = editor.open(browser("context"), **FAST)
    typed = keystrokes(150)
    browser("type", tab=tab, selector="textarea", text=typed, delay=30)
    editor.saved(tab)
    dropped = [entry for entry in editor.proxy.writes() if entry.outcome == "dropped"]
    assert len(dropped) >= 3
    assert editor.server()["state"]["блоки"] == [FIRST + typed]
    assert editor.block(tab, 0) == FIRST + typed


@pytest.mark.slow(5)
def test_a_tab_closed_with_a_diff_in_flight_lands_its_edit_when_reopened(editor):
    browser = editor.browser
    context = browser("context")
    tab = editor.open(context, debounce=0, maxWait=0, minInterval=0, warnOnClose=1)
    editor.proxy.answer_delay = 1.0
    browser("type", tab=tab, selector="textarea", text=" закрито")
    browser("waitFor", tab=tab, js=f"{STATUS} === 'saving'")
    time.sleep(0.05)
    browser("close", tab=tab)
    assert browser("dialogs", tab=tab) == ["beforeunload"]  # the user was asked to wait
    editor.proxy.answer_delay = 0.0
    reopened = editor.open(context)
    deadline = time.monotonic() + 20
    while editor.server()["state"]["блоки"] != [FIRST + " закрито"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert editor.server()["state"]["блоки"] == [FIRST + " закрито"]
    editor.caught_up(reopened)
    assert browser("eval", tab=reopened, js="() => window.soloEvents.conflicts") == []


@pytest.mark.slow(10)
def test_two_tabs_typing_in_different_blocks_converge_without_conflicts(editor):
    browser = editor.browser
    context = browser("context")
    first = editor.open(context, **FAST)
    browser("eval", tab=first, js="() => document.getElementById('add').click()")
    editor.saved(first)
    second = editor.open(context, **FAST)
    typing = [
        browser.start("type", tab=first, selector=BLOCK.format(0), text=keystrokes(80), delay=40),
        browser.start("type", tab=second, selector=BLOCK.format(1), text=keystrokes(90), delay=35),
    ]
    for command in typing:
        browser.result(command)
    editor.saved(first)
    editor.saved(second)
    assert editor.server()["state"]["блоки"] == [FIRST + keystrokes(80), keystrokes(90)]
    editor.caught_up(first)
    editor.caught_up(second)
    assert editor.conflicts(first) == editor.conflicts(second) == []


@pytest.mark.slow(7)
def test_one_block_typed_at_two_places_keeps_both_and_one_place_raises_a_conflict(editor):
    browser = editor.browser
    first_context, second_context = browser("context"), browser("context")
    first = editor.open(first_context, **FAST)
    second = editor.open(second_context, **FAST)
    typing = [
        browser.start("type", tab=first, selector="textarea", text="Ось ", delay=60, at="start"),
        browser.start("type", tab=second, selector="textarea", text=" і далі", delay=50),
    ]
    for command in typing:
        browser.result(command)
    editor.saved(first)
    editor.saved(second)
    both = "Ось " + FIRST + " і далі"
    assert editor.server()["state"]["блоки"] == [both]
    editor.caught_up(first)
    editor.caught_up(second)
    assert editor.conflicts(first) == editor.conflicts(second) == []

    browser("offline", context=first_context, value=True)
    browser("offline", context=second_context, value=True)
    browser("type", tab=first, selector="textarea", text=" — перша")
    browser("type", tab=second, selector="textarea", text=" — друга")
    browser("offline", context=first_context, value=False)
    editor.saved(first)
    browser("offline", context=second_context, value=False)
    browser("waitFor", tab=second, js=f"{STATUS} === 'conflict'")
    assert editor.conflicts(second) == [
        {"path": "/блоки/0", "base": both, "local": both + " — друга", "remote": both + " — перша"}
    ]
    browser("waitFor", tab=second, js="() => !window.soloAutosave.status.pending")
    assert editor.server()["state"]["блоки"] == [both + " — друга"]
    editor.caught_up(first)


@pytest.mark.slow(12)
def test_the_server_killed_and_restarted_while_someone_types(editor, api):
    holder, settings, root = api
    browser = editor.browser
    tab = editor.open(browser("context"), **FAST)
    typed = keystrokes(120)
    typing = browser.start("type", tab=tab, selector="textarea", text=typed, delay=40)
    time.sleep(1.0)
    holder["server"].kill()
    time.sleep(1.5)
    holder["server"], _ = start_server(root, cors_origins=settings.cors_origins)
    editor.proxy.upstream_port = holder["server"].port
    browser.result(typing)
    editor.saved(tab, timeout=60_000)
    assert editor.server()["state"]["блоки"] == [FIRST + typed]
    downs = [entry for entry in editor.proxy.log if entry.outcome == "upstream down"]
    assert downs, "the server was down while the page wrote"


@pytest.mark.slow(7)
def test_429_and_503_are_honoured_with_their_retry_after(editor):
    browser = editor.browser
    tab = editor.open(browser("context"), debounce=0, maxWait=0, minInterval=0)
    editor.proxy.inject(429, "rate_limited", retry_after=2)
    editor.proxy.inject(503, "unavailable", retry_after=1)
    browser("type", tab=tab, selector="textarea", text="!")
    editor.saved(tab)
    writes = editor.proxy.writes()
    assert [(entry.outcome, entry.status) for entry in writes] == [
        ("injected", 429),
        ("injected", 503),
        ("answered", 200),
    ]
    assert len({entry.headers["idempotency-key"] for entry in writes}) == 1
    assert writes[1].at - writes[0].at >= 2.0
    assert writes[2].at - writes[1].at >= 1.0
    assert editor.server()["state"]["блоки"] == [FIRST + "!"]


@pytest.mark.slow(5)
def test_a_large_document_is_saved_as_a_gzip_save_stream_then_by_diffs(editor):
    browser = editor.browser
    tab = editor.open(browser("context"), **FAST)
    browser("eval", tab=tab, js=LARGE)
    editor.saved(tab)
    browser("eval", tab=tab, js=RETITLE)
    browser("type", tab=tab, selector=BLOCK.format(3), text=" кінець")
    editor.saved(tab)
    writes = [
        (entry.method, entry.path.rsplit("/", 2)[-2], entry.headers.get("content-encoding"))
        for entry in editor.proxy.writes()
    ]
    assert writes[0] == ("POST", "save-stream", "gzip")
    assert {write[:2] for write in writes[1:]} == {("PATCH", "diff")}
    state = editor.server()["state"]
    size = len(json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode())
    assert 1.8 * 2**20 < size < 2 * 2**20
    assert state["назва"] == "Велика"
    assert state["блоки"][3].endswith(" кінець")
    editor.caught_up(tab)
