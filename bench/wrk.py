"""Run wrk (Debian's package) with bench/requests.lua against a loopback server; parse it."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re
import shutil
import signal
import subprocess
import time
import urllib.parse

WRK = shutil.which("wrk") or "/usr/bin/wrk"
LUA_SCRIPT = pathlib.Path(__file__).with_name("requests.lua")
CONNECTIONS = 16
THREADS = 1
DRAIN_SECONDS = 60
"""After sending stops, the longest wait for the answers still in flight."""
EXIT_GRACE_SECONDS = 30
POLL_SECONDS = 0.05
FIELD = re.compile(r"^@bench (\w+) (-?\d+)$", re.MULTILINE)


@dataclasses.dataclass(frozen=True)
class Target:
    path: str
    headers: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Plan:
    method: str
    targets: list[Target]
    diff: bool = False
    body_file: pathlib.Path | None = None
    members: bool = False
    """Diffs that each add a member of their own with a fresh `Idempotency-Key`, as the
    autosave client sends them."""
    rebase_from: int | None = None
    """Those diffs also say their base (`Solo-Base-Rev`, starting here)."""
    keys: str = ""
    """A prefix that makes this run's idempotency keys its own."""
    threads: int = THREADS
    """wrk's threads; CONNECTIONS gives each connection a thread of its own."""
    session_per_connection: bool = False
    """Each session's requests on one connection only, as one browser's would travel
    (with a thread per connection), instead of every session's over every connection."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    seconds: int
    in_window: int
    """Answers that arrived within the `seconds` of sending."""
    sent: int
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.in_window / self.seconds

    @property
    def unanswered(self) -> int:
        """Requests sent but never answered, even after the drain."""
        return self.sent - sum(self.statuses.values())


def version() -> str:
    shown = subprocess.run([WRK, "--version"], capture_output=True, text=True, timeout=10)
    return (shown.stdout + shown.stderr).split(" Copyright")[0].strip()


def run(base_url: str, plan: Plan, seconds: int, folder: pathlib.Path) -> tuple[Outcome, str]:
    """Send for `seconds`, then wait (up to DRAIN_SECONDS) for every answer; answers the
    parsed outcome and wrk's whole output."""
    if urllib.parse.urlsplit(base_url).hostname != "127.0.0.1":
        raise ValueError(f"wrk only ever targets 127.0.0.1, not {base_url}")
    drained = folder / "drained"
    for marker in folder.glob("drained.*"):
        marker.unlink()
    plan_path = folder / "plan.lua"
    plan_path.write_text(_lua_plan(plan, seconds, drained))
    output_path = folder / "wrk.out"
    command = [
        WRK,
        *(f"-t{plan.threads}", f"-c{CONNECTIONS}", f"-d{seconds + DRAIN_SECONDS}s"),
        # wrk leaves answers slower than --timeout out of its statistics, and counts a
        # connection paused for the drain as timed out once it passes: never, here.
        *(f"--timeout={seconds + DRAIN_SECONDS + EXIT_GRACE_SECONDS}s", "--latency"),
        f"--script={LUA_SCRIPT}",
        *(base_url, "--", str(plan_path)),
    ]
    with output_path.open("w") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        try:
            _wait(process, seconds + DRAIN_SECONDS + EXIT_GRACE_SECONDS, folder, plan.threads)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    text = output_path.read_text()
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{text}")
    return _parse(text, seconds), text


def _wait(process: subprocess.Popen, limit: float, folder: pathlib.Path, threads: int) -> None:
    """Until wrk exits; once every thread has drained, SIGINT ends wrk's timed sleep."""
    deadline = time.monotonic() + limit
    interrupted = False
    while process.poll() is None and time.monotonic() < deadline:
        if not interrupted and len(list(folder.glob("drained.*"))) == threads:
            process.send_signal(signal.SIGINT)
            interrupted = True
        time.sleep(POLL_SECONDS)
    if process.poll() is None:
        raise RuntimeError(f"wrk did not exit within {limit:.0f} s")


def _parse(output: str, seconds: int) -> Outcome:
    fields = {name: int(value) for name, value in FIELD.findall(output)}
    statuses = {
        int(name.removeprefix("status_")): count
        for name, count in fields.items()
        if name.startswith("status_")
    }
    return Outcome(
        seconds=seconds,
        in_window=fields["in_window"],
        sent=fields["sent"],
        p50_ms=fields["p50_us"] / 1000,
        p99_ms=fields["p99_us"] / 1000,
        statuses=statuses,
    )


def _lua_plan(plan: Plan, seconds: int, drained: pathlib.Path) -> str:
    if plan.session_per_connection and plan.threads != CONNECTIONS:
        raise ValueError("a session per connection needs a wrk thread per connection")
    if plan.session_per_connection and len(plan.targets) % plan.threads:
        # A thread with no session would fail in request(); uneven shares, unevenly loaded.
        raise ValueError(f"a session per connection needs sessions in multiples of {CONNECTIONS}")
    targets = ",\n".join(
        f"  {{path = {_lua(target.path)}, headers = {{"
        + ", ".join(f"[{_lua(name)}] = {_lua(value)}" for name, value in target.headers.items())
        + "}}"
        for target in plan.targets
    )
    body_file = _lua(str(plan.body_file)) if plan.body_file else "nil"
    rebase_from = "nil" if plan.rebase_from is None else str(plan.rebase_from)
    partition = str(plan.threads) if plan.session_per_connection else "nil"
    return (
        f"return {{method = {_lua(plan.method)}, diff = {str(plan.diff).lower()}, "
        f"body_file = {body_file}, seconds = {seconds}, drained_file = {_lua(str(drained))},\n"
        f"members = {str(plan.members).lower()}, rebase_from = {rebase_from}, "
        f"keys = {_lua(plan.keys)}, partition = {partition},\n"
        f"targets = {{\n{targets}\n}}}}\n"
    )


def _lua(text: str) -> str:
    """A Lua string literal; JSON's escapes are Lua's for printable ASCII."""
    if not text.isascii() or not text.isprintable():
        raise ValueError(f"only printable ASCII goes into a wrk plan: {text!r}")
    return json.dumps(text)
