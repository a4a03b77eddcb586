"""The benchmark matrix: for each configuration, its baselines and Solo's rows, checked."""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import sys
import time
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from bench import api, baseline_app, stack, wrk
from bench.report import WRITES, Key, Row, line
from bench.states import SIZES, encode, make_state

USERS = 64
METHOD = {
    "diff": "PATCH",
    "keyed": "PATCH",
    "rebase": "PATCH",
    "save": "POST",
    "get": "GET",
    "get304": "GET",
}
SUFFIX = {
    "diff": "diff/",
    "keyed": "diff/",
    "rebase": "diff/",
    "save": "save-stream/",
    "get": "",
    "get304": "",
}
HOT_ONLY = ("keyed", "rebase")
"""Rows of one session's writers (a rebase moves over the others' writes)."""


@dataclasses.dataclass(frozen=True)
class Options:
    dbs: list[str]
    workers: list[int]
    shapes: list[str]
    sizes: list[str]
    ops: list[str]
    duration: int
    warmup: int
    postgres_url: str
    logs: pathlib.Path
    solo_settings: dict[str, str] = dataclasses.field(default_factory=dict)
    """Extra SOLO_* settings for `solo serve` (`--solo-setting NAME=VALUE`)."""


@dataclasses.dataclass(frozen=True)
class Sessions:
    """One session per writer in Solo, and the same in the baseline's table."""

    writers: list[api.Writer]
    plain_ids: list[uuid.UUID]
    body_file: pathlib.Path
    api_url: str
    engine: sa.Engine | None
    """The plain app's database; None where only Solo runs the row."""

    def solo_revs(self) -> list[int]:
        return api.current_revs(self.api_url, self.writers)

    def plain_revs(self) -> list[int]:
        assert self.engine is not None, "these sessions are only Solo's"
        return baseline_app.read_revs(self.engine, self.plain_ids)

    def plan(self, op: str, server: str = "solo") -> wrk.Plan:
        """One target per writer, with that writer's token; get304 sends the current ETag."""
        ids = [writer.session_id for writer in self.writers] if server == "solo" else self.plain_ids
        etags = [f'"{rev}"' for rev in self.solo_revs()] if op == "get304" else []
        targets = []
        for index, (writer, session_id) in enumerate(zip(self.writers, ids, strict=True)):
            headers = {"Authorization": writer.authorization}
            if op in WRITES:
                headers |= {"If-Match": "*", "Content-Type": "application/json"}
            if op == "get304":
                headers["If-None-Match"] = etags[index]
            targets.append(wrk.Target(f"{stack.API}/sessions/{session_id}/{SUFFIX[op]}", headers))
        body = self.body_file if op == "save" else None
        if op in HOT_ONLY:
            (rev,) = self.solo_revs()
            return wrk.Plan(
                METHOD[op],
                targets,
                diff=True,
                members=True,
                rebase_from=rev if op == "rebase" else None,
                keys=uuid.uuid4().hex[:12],
            )
        return wrk.Plan(METHOD[op], targets, diff=op == "diff", body_file=body)


def make_sessions(
    solo: stack.Server,
    users: list[str],
    size: str,
    folder: pathlib.Path,
    *,
    engine: sa.Engine | None,
) -> Sessions:
    """Each user's session with a state of `size`, in Solo and, given its engine, in the
    plain app's table."""
    state = make_state(SIZES[size])
    body_file = folder / f"state-{size}.json"
    body_file.write_bytes(encode(state))
    api_url = solo.base_url + stack.API
    writers = api.create_sessions(api_url, users, stack.SECRET, body_file.read_bytes())
    plain_ids = [] if engine is None else baseline_app.insert_sessions(engine, users, state)
    return Sessions(writers, plain_ids, body_file, api_url, engine)


class Matrix:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.rows: list[Row] = []
        self.failures: list[str] = []

    def configuration(self, db: str, workers: int) -> None:
        """A fresh database, one `solo serve` and one baseline app of `workers` processes;
        one warm-up of each, then (a), then every shape and size."""
        folder = self.options.logs / f"{db}-{workers}"
        folder.mkdir(parents=True)
        with contextlib.ExitStack() as cleanup:
            url = cleanup.enter_context(stack.fresh_database(db, self.options.postgres_url, folder))
            solo = stack.start_solo(url, workers, folder, self.options.solo_settings)
            cleanup.callback(solo.stop)
            plain = stack.start_baseline(url, workers, folder)
            cleanup.callback(plain.stop)
            engine = baseline_app.make_engine(url)
            cleanup.callback(engine.dispose)
            baseline_app.create_schema(engine)
            healthz = wrk.Plan("GET", [wrk.Target(stack.API + "/healthz", {})])
            health_key = Key(db, workers, "-", "-", "solo", "healthz")
            warm_key = Key(db, workers, "warm", "1k", "", "")
            warm = self._sessions(warm_key, wrk.CONNECTIONS, solo, engine, folder)
            self._warm_up(health_key, solo, healthz)
            self._warm_up(
                dataclasses.replace(warm_key, server="solo", op="diff"), solo, warm.plan("diff")
            )
            self._warm_up(
                dataclasses.replace(warm_key, server="plain", op="diff"),
                plain,
                warm.plan("diff", "plain"),
            )
            health = self._row(health_key, solo, healthz, None)
            for shape in self.options.shapes:
                for size in self.options.sizes:
                    group = Key(db, workers, shape, size, "", "")
                    sessions = self._sessions(
                        group, USERS if shape == "users" else 1, solo, engine, folder
                    )
                    self._group(group, sessions, solo, plain, health)

    def _sessions(
        self, group: Key, count: int, solo: stack.Server, engine: sa.Engine, folder: pathlib.Path
    ) -> Sessions:
        started = time.monotonic()
        users = [f"{group.shape}-{group.size}-{n:02d}" for n in range(count)]
        sessions = make_sessions(solo, users, group.size, folder, engine=engine)
        _progress(f"{group}: {count} sessions ready in {time.monotonic() - started:.1f} s")
        return sessions

    def _group(
        self, group: Key, sessions: Sessions, solo: stack.Server, plain: stack.Server, health: Row
    ) -> None:
        baseline = None
        if "diff" in self.options.ops:
            key = dataclasses.replace(group, server="plain", op="diff")
            baseline = self._row(
                key, plain, sessions.plan("diff", "plain"), sessions.plain_revs, health
            )
        rows = {}
        for op in self.options.ops:
            if op in HOT_ONLY and group.shape != "hot":
                continue
            key = dataclasses.replace(group, server="solo", op=op)
            revs = sessions.solo_revs if op in WRITES else None
            rows[op] = self._row(key, solo, sessions.plan(op), revs, health, baseline)
        for baseline in ("keyed", "diff"):
            if {baseline, "rebase"} <= rows.keys():
                ratio = rows["rebase"].outcome.rate / rows[baseline].outcome.rate
                print(f"  {group}: rebase req/s over {baseline} req/s: {ratio:.2f}")

    def _row(
        self,
        key: Key,
        server: stack.Server,
        plan: wrk.Plan,
        revs: Callable[[], list[int]] | None,
        health: Row | None = None,
        baseline: Row | None = None,
    ) -> Row:
        """One measured run; wrk drains every request it sent, so the revs are final."""
        before = sum(revs()) if revs else 0
        outcome = self._wrk(key, server.base_url, plan, self.options.duration)
        applied = sum(revs()) - before if revs else None
        row = Row(key, outcome, applied)
        self.rows.append(row)
        self.failures.extend(row.problems())
        print(line(row, health or row, baseline or row), flush=True)
        return row

    def _warm_up(self, key: Key, server: stack.Server, plan: wrk.Plan) -> None:
        """A short unmeasured run; its 5xx and 412s still fail the run."""
        if self.options.warmup > 0:
            outcome = self._wrk(f"warm-up {key}", server.base_url, plan, self.options.warmup)
            self.failures.extend(f"warm-up {p}" for p in Row(key, outcome, None).problems())

    def _wrk(self, label: object, base_url: str, plan: wrk.Plan, seconds: int) -> wrk.Outcome:
        outcome, output = wrk.run(base_url, plan, seconds, self.options.logs)
        with (self.options.logs / "wrk.log").open("a") as log:
            log.write(f"=== {label}\n{output}\n")
        return outcome


def _progress(message: str) -> None:
    print(f"· {message}", file=sys.stderr, flush=True)
