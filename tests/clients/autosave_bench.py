"""Measure the autosave client in Chromium on a 1.9 MiB document (issue 19).

    .venv/bin/python -m tests.clients.autosave_bench [--seconds 30]

Serves the example page and a fresh `solo serve` (SQLite) as in the browser tests, with the
fault proxy (no faults) counting requests and bytes; types into one block of the big
document for `--seconds` at ten keystrokes a second, with the client's default timing, and
prints one JSON object: the time of each `update()` (p50, p95), the client's diff and
preparation times (performance measures `solo-autosave:diff` and `solo-autosave:prepare`,
the latter wall time: gzip in the Worker and the outbox's committed write included), the
main thread's long tasks while typing, writes per minute (from the first write to the
last), and bytes sent against a full save per write (raw and gzipped).
Numbers depend on the machine and its load: a measurement, not a test.
"""

from __future__ import annotations

import argparse
import gzip
import http.server
import json
import pathlib
import shutil
import tempfile
import threading

from tests.clients.conftest import node_tools, run, start_server
from tests.clients.test_autosave_browser import (
    DRIVER,
    LARGE,
    PACKAGE,
    SERVER_REBASE,
    Driver,
    Editor,
    _Static,
    keystrokes,
)
from tests.support.fault_proxy import FaultProxy
from tests.support.server import free_port

INSTRUMENT = """() => {
  window.benchUpdates = [];
  const update = window.soloAutosave.update.bind(window.soloAutosave);
  window.soloAutosave.update = (next) => {
    const started = performance.now();
    update(next);
    window.benchUpdates.push(performance.now() - started);
  };
  performance.clearMeasures();
  window.benchLongTasks = [];
  new PerformanceObserver((list) => {
    window.benchLongTasks.push(...list.getEntries().map((entry) => entry.duration));
  }).observe({ type: "longtask" });
}"""
COLLECT = """() => ({
  updates: window.benchUpdates,
  diff: performance.getEntriesByName("solo-autosave:diff").map((entry) => entry.duration),
  prepare: performance.getEntriesByName("solo-autosave:prepare").map((entry) => entry.duration),
  longTasks: window.benchLongTasks,
  state: JSON.stringify(window.soloAutosave.state),
})"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    seconds = parser.parse_args().seconds
    run(["npm", "run", "--silent", "build"], cwd=PACKAGE)
    with tempfile.TemporaryDirectory() as temporary:
        root = pathlib.Path(temporary)
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Static)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        page_origin = f"http://127.0.0.1:{httpd.server_address[1]}"
        server, settings = start_server(root, cors_origins=(page_origin,))
        proxy = FaultProxy(server.port)
        (root / "node_modules").symlink_to(node_tools(), target_is_directory=True)
        shutil.copyfile(DRIVER, root / DRIVER.name)
        browser = Driver(root / DRIVER.name)
        try:
            editor = Editor(browser, ({"server": server}, settings, root), proxy, page_origin)
            tab = editor.open(browser("context"))
            browser("eval", tab=tab, js=LARGE)
            editor.saved(tab, timeout=120_000)
            first_save = proxy.writes()[-1]
            proxy.log.clear()
            browser("eval", tab=tab, js=INSTRUMENT)
            typed = keystrokes(seconds * 10)
            browser("type", tab=tab, selector="textarea[data-index='500']", text=typed, delay=100)
            editor.saved(tab, timeout=120_000)
            measured = browser("eval", tab=tab, js=COLLECT)
        finally:
            browser.quit()
            proxy.stop()
            server.stop()
            httpd.shutdown()
    return report(measured, proxy, first_save, typed, seconds)


def report(measured: dict, proxy: FaultProxy, first_save, typed: str, seconds: int) -> None:
    writes = [entry for entry in proxy.writes() if entry.outcome == "answered"]
    sent = sum(int(entry.headers.get("content-length", "0")) for entry in writes)
    state = measured["state"].encode()
    print(
        json.dumps(
            {
                "document_bytes": len(state),
                "server_rebase": SERVER_REBASE,
                "first_save": [first_save.method, first_save.path.rsplit("/", 2)[-2]],
                "keystrokes": len(typed),
                "typing_seconds": seconds,
                **{
                    f"{name}_ms": {
                        "p50": percentile(measured[name], 0.5),
                        "p95": percentile(measured[name], 0.95),
                    }
                    for name in ("updates", "diff", "prepare")
                },
                "writes": len(writes),
                "writes_per_minute": round(
                    (len(writes) - 1) * 60 / (writes[-1].at - writes[0].at), 1
                ),
                "long_tasks_ms": sorted(round(duration) for duration in measured["longTasks"]),
                "bytes_sent": sent,
                "full_saves_raw_bytes": len(writes) * len(state),
                "full_saves_gzip_bytes": len(writes) * len(gzip.compress(state)),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
