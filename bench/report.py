"""Rows of the results table, their ratios, and the checks that fail a run."""

from __future__ import annotations

import dataclasses

from bench.wrk import Outcome

WRITES = ("diff", "keyed", "rebase", "save")
EXPECTED_STATUS = {
    "healthz": 200,
    "diff": 200,
    "keyed": 200,
    "rebase": 200,
    "save": 200,
    "get": 200,
    "get304": 304,
}
COLUMNS = (
    ("db", "<10"),
    ("wk", ">2"),
    ("shape", "<6"),
    ("size", "<5"),
    ("server", "<6"),
    ("op", "<7"),
    ("req/s", ">8"),
    ("p50 ms", ">8"),
    ("p99 ms", ">8"),
    ("p99/p50", ">7"),
    ("×health", ">7"),
    ("×plain", ">6"),
    ("ok", ">7"),
    ("412", ">5"),
    ("5xx", ">5"),
    ("other", ">5"),
    ("lost", ">5"),
)


@dataclasses.dataclass(frozen=True)
class Key:
    db: str
    workers: int
    shape: str
    size: str
    server: str
    op: str

    def __str__(self) -> str:
        parts = (self.db, f"×{self.workers}", self.shape, self.size, self.server, self.op)
        return " ".join(part for part in parts if part)


@dataclasses.dataclass(frozen=True)
class Row:
    key: Key
    outcome: Outcome
    applied: int | None
    """For writes: how much the sessions' revs grew during the run."""

    @property
    def ok(self) -> int:
        return self.outcome.statuses.get(EXPECTED_STATUS[self.key.op], 0)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.outcome.statuses.items() if status >= 500)

    @property
    def refused_any(self) -> int:
        """412 answers to `If-Match: *`, which the contract says never happen."""
        return self.outcome.statuses.get(412, 0) if self.key.op in WRITES else 0

    @property
    def other(self) -> int:
        counted = self.ok + self.server_errors + self.refused_any
        return sum(self.outcome.statuses.values()) - counted

    @property
    def lost(self) -> int | None:
        """Writes answered 200 whose rev increment is missing from the sessions."""
        return None if self.applied is None else max(0, self.ok - self.applied)

    def problems(self) -> list[str]:
        found = []
        if self.server_errors:
            found.append(f"{self.server_errors} answers 5xx")
        if self.refused_any:
            found.append(f"{self.refused_any} answers 412 to If-Match: *")
        if self.other:
            found.append(f"{self.other} unexpected answers")
        if self.outcome.unanswered:
            found.append(f"{self.outcome.unanswered} requests still unanswered after the drain")
        if self.lost:
            found.append(
                f"{self.lost} acknowledged writes lost (200s {self.ok}, revs +{self.applied})"
            )
        if self.applied is not None and self.applied > self.ok + self.outcome.unanswered:
            phantom = self.applied - self.ok - self.outcome.unanswered
            found.append(f"{phantom} writes applied that were not answered 200")
        return [f"{self.key}: {problem}" for problem in found]


def header() -> str:
    return "  ".join(f"{name:{spec}}" for name, spec in COLUMNS)


def line(row: Row, health: Row, plain: Row) -> str:
    """`health` is (a) of the row's configuration, `plain` is (b) of its shape and size."""
    outcome = row.outcome
    cells = [
        row.key.db,
        row.key.workers,
        row.key.shape,
        row.key.size,
        row.key.server,
        row.key.op,
        f"{outcome.rate:.0f}",
        f"{outcome.p50_ms:.1f}",
        f"{outcome.p99_ms:.1f}",
        _ratio(outcome.p99_ms, outcome.p50_ms),
        _ratio(outcome.rate, health.outcome.rate),
        _ratio(outcome.rate, plain.outcome.rate if row.key.op == "diff" else 0),
        row.ok,
        row.refused_any if row.key.op in WRITES else "-",
        row.server_errors,
        row.other,
        "-" if row.lost is None else row.lost,
    ]
    return "  ".join(f"{cell:{spec}}" for cell, (_name, spec) in zip(cells, COLUMNS, strict=True))


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}" if reference else "-"
