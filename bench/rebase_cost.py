"""What the transform of a rebase costs, alone: `solo.domain.rebase.rebase` of a one-op diff
over the changes since its base, in µs per call (the copy of the state it applies to taken
off). Three logs of changes since the base, each change one op: replaces of other members,
inserts into an array the diff does not touch, and adds of other members (the bench's
`rebase` row). No server, no I/O: a before/after of the domain code, run with PYTHONPATH.

Usage: .venv/bin/python -m bench.rebase_cost [--since 30]
"""

from __future__ import annotations

import argparse
import copy
import timeit
from typing import Any

from solo.domain import jsonvalue
from solo.domain.rebase import rebase

STATE = {f"m{n}": n for n in range(32)} | {"блоки": [{"текст": str(n)} for n in range(20)]}


def logs(since: int) -> dict[str, tuple[list[list[dict[str, Any]]], dict[str, Any]]]:
    """Each log of changes since the base, and the diff's one op."""
    return {
        "over replaces": (
            [[{"op": "replace", "path": f"/m{n}", "value": n}] for n in range(since)],
            {"op": "replace", "path": "/m31", "value": 7},
        ),
        "over array inserts": (
            [[{"op": "add", "path": f"/блоки/{n}", "value": {"текст": "х"}}] for n in range(since)],
            {"op": "replace", "path": "/m31", "value": 7},
        ),
        "over member adds": (
            [[{"op": "add", "path": f"/member{n}", "value": n}] for n in range(since)],
            {"op": "add", "path": "/member999", "value": 7},
        ),
    }


def microseconds(call: Any) -> float:
    count, seconds = timeit.Timer(call).autorange()
    return seconds / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", type=int, default=30, help="changes since the base")
    since = parser.parse_args().since
    copying = microseconds(lambda: copy.deepcopy(STATE))
    for name, (changes, op) in logs(since).items():
        encoded = [jsonvalue.encode(change) for change in changes]

        def once(encoded: list[bytes] = encoded, op: dict[str, Any] = op) -> None:
            rebase(copy.deepcopy(STATE), 500, [op], since=encoded, work_limit=10**6)

        print(f"one op {name} ({since}): {microseconds(once) - copying:7.1f} µs")


if __name__ == "__main__":
    main()
