"""The change feed holds about a page in memory, and the kept log stays within its bytes."""

import copy
import datetime as dt
import tracemalloc

import pytest

from solo import limits
from solo.domain import jsonvalue
from solo.domain.errors import ChangesCompacted
from solo.domain.model import KeptLog, Patch
from solo.domain.preconditions import from_headers
from solo.services import changes, sessions, writes

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)
BIG = 400_000
"""Bytes of the string each diff adds and removes: the state stays tiny, the log does not."""


def write_big_diffs(deps, session_id, count: int, kept: KeptLog) -> None:
    for n in range(count):
        text = chr(0x0430 + n % 32) * (BIG // 2)  # Cyrillic: two bytes a character
        ops = [
            {"op": "add", "path": "/тимчасове", "value": text},
            {"op": "remove", "path": "/тимчасове"},
        ]
        writes.write(
            deps.database.unit_of_work(),
            deps.states,
            writes.Write("олена", session_id, from_headers("*", None), Patch(copy.deepcopy(ops))),
            clock=lambda: T0,
            kept=kept,
        )


@pytest.fixture
def session_id(deps):
    session = sessions.create_session(
        deps.database.unit_of_work(),
        deps.states,
        owner="олена",
        state={"назва": "чернетка"},
        clock=lambda: T0,
    ).session
    return session.id


def test_a_page_is_read_in_slices_and_held_about_once(deps, session_id, monkeypatch):
    monkeypatch.setattr(limits, "CHANGES_PAGE_BYTES", 2 * limits.MIB)
    monkeypatch.setattr(limits, "CHANGES_SLICE_BYTES", limits.MIB // 2)
    write_big_diffs(deps, session_id, 20, KeptLog(changes=1000, bytes=64 * limits.MIB))
    deps.states.discard(session_id)
    tracemalloc.start()
    try:
        page = changes.changes_since(
            deps.database.unit_of_work(), owner="олена", session_id=session_id, since=0, limit=1000
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    body = b"".join(page.parts)
    # Five changes of 400 KB fill the 2 MiB page; the log holds 8 MB of them.
    assert ([c["rev"] for c in jsonvalue.decode(body)[0]], page.more) == ([1, 2, 3, 4, 5], True)
    assert peak < 3 * limits.CHANGES_PAGE_BYTES


def test_the_kept_log_stays_within_its_bytes_and_older_revisions_are_compacted(deps, session_id):
    kept = KeptLog(changes=1000, bytes=3 * limits.MIB)
    write_big_diffs(deps, session_id, 20, kept)
    head, state = sessions.get_session(
        deps.database.unit_of_work(), deps.states, owner="олена", session_id=session_id
    )
    assert (head.rev, jsonvalue.decode(state)[0]) == (20, {"назва": "чернетка"})
    assert head.kept_bytes <= kept.bytes
    with deps.database.unit_of_work() as uow:
        logged = [change.rev for change in uow.log.changes(session_id, 0, 20)]
    # About seven 400 KB changes fit in 3 MiB; every one of them is the newest.
    assert logged == list(range(21 - len(logged), 21)) and 5 <= len(logged) <= 8
    with pytest.raises(ChangesCompacted) as compacted:
        changes.changes_since(
            deps.database.unit_of_work(), owner="олена", session_id=session_id, since=0, limit=100
        )
    assert compacted.value.oldest_rev == logged[0] - 1
