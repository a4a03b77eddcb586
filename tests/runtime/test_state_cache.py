"""The state cache: one entry per session, held within a byte budget, least recently
used first out."""

import datetime as dt
import uuid

import pytest

from solo import limits
from solo.domain.jsonvalue import encode
from solo.domain.model import LoggedChange, Session
from solo.runtime.state_cache import StateCache

AT = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
STATE = {"назва": "Чернетка", "абзаци": ["перший"]}
SIZE = len(encode(STATE))


def head(session_id: uuid.UUID, rev: int) -> Session:
    return Session(
        id=session_id,
        owner="олена",
        rev=rev,
        size=SIZE,
        created_at=AT,
        updated_at=AT,
        last_seen_at=None,
        checkpoint_rev=rev,
        replay_cost=0,
        kept_bytes=SIZE,
    )


def held_entry(cache: StateCache, rev: int = 1):
    """A new session's entry, holding its state as of `rev`."""
    session_id = uuid.uuid4()
    entry = cache.entry(session_id)
    cache.hold(entry, head(session_id, rev), STATE)
    return entry


def is_cached(cache: StateCache, entry) -> bool:
    """Whether the cache still answers this very entry (asking marks it as used)."""
    return cache.entry(entry.session_id) is entry


def test_a_new_entry_holds_nothing_and_is_answered_again():
    cache = StateCache(budget_bytes=10 * SIZE)
    session_id = uuid.uuid4()
    entry = cache.entry(session_id)
    assert (entry.session_id, entry.rev, entry.state, entry.encoded) == (
        session_id,
        None,
        None,
        None,
    )
    assert entry.footprint == 0
    assert cache.entry(session_id) is entry


def test_an_entry_counts_the_state_and_its_encoding():
    cache = StateCache(budget_bytes=10 * SIZE)
    entry = held_entry(cache, rev=3)
    assert (entry.rev, entry.state, entry.footprint) == (3, STATE, SIZE)
    cache.hold_encoded(entry, 3, encode(STATE))
    assert entry.encoded == (3, encode(STATE))
    assert entry.footprint == 2 * SIZE


def test_a_new_rev_drops_the_encoding_of_the_old_one():
    cache = StateCache(budget_bytes=10 * SIZE)
    entry = held_entry(cache, rev=3)
    cache.hold_encoded(entry, 3, encode(STATE))
    cache.hold(entry, head(entry.session_id, 4), STATE)
    assert (entry.rev, entry.encoded, entry.footprint) == (4, None, SIZE)


def test_the_same_rev_keeps_its_encoding():
    cache = StateCache(budget_bytes=10 * SIZE)
    entry = held_entry(cache, rev=3)
    cache.hold_encoded(entry, 3, encode(STATE))
    cache.hold(entry, head(entry.session_id, 3), STATE)
    assert entry.encoded == (3, encode(STATE))


def test_past_the_budget_the_least_recently_used_entry_goes():
    cache = StateCache(budget_bytes=2 * SIZE)
    oldest, used_since, newest = held_entry(cache), held_entry(cache), held_entry(cache)
    assert [is_cached(cache, e) for e in (used_since, newest, oldest)] == [True, True, False]


def test_using_an_entry_keeps_it_over_an_older_one():
    cache = StateCache(budget_bytes=2 * SIZE)
    first, second = held_entry(cache), held_entry(cache)
    assert is_cached(cache, first)  # now used after `second`
    held_entry(cache)
    assert [is_cached(cache, e) for e in (first, second)] == [True, False]


def test_one_entry_stays_even_past_the_budget():
    cache = StateCache(budget_bytes=SIZE // 2)
    entry = held_entry(cache)
    assert is_cached(cache, entry)
    assert entry.state == STATE


def test_a_forgotten_entry_stays_but_holds_nothing():
    cache = StateCache(budget_bytes=2 * SIZE)
    entry = held_entry(cache)
    cache.hold_encoded(entry, 1, encode(STATE))
    cache.forget(entry)
    assert (entry.rev, entry.state, entry.encoded, entry.footprint) == (None, None, None, 0)
    assert is_cached(cache, entry)


def test_forgetting_makes_room_under_the_budget():
    cache = StateCache(budget_bytes=2 * SIZE)
    first, second = held_entry(cache), held_entry(cache)
    cache.forget(first)
    held_entry(cache)
    assert [is_cached(cache, e) for e in (first, second)] == [True, True]


def test_a_discarded_session_gets_a_new_entry_and_its_bytes_back():
    cache = StateCache(budget_bytes=2 * SIZE)
    first, second = held_entry(cache), held_entry(cache)
    cache.discard(first.session_id)
    assert not is_cached(cache, first)
    held_entry(cache)
    assert is_cached(cache, second)


def test_an_evicted_entry_its_holder_still_fills_counts_for_nothing():
    cache = StateCache(budget_bytes=2 * SIZE)
    evicted, kept, newest = held_entry(cache), held_entry(cache), held_entry(cache)
    cache.hold_encoded(evicted, 1, encode(STATE))  # its holder finishes with it alone
    assert evicted.encoded == (1, encode(STATE))
    assert [is_cached(cache, e) for e in (kept, newest)] == [True, True]


def change(rev: int, text: str = "ї") -> LoggedChange:
    return LoggedChange(rev, AT, encode([{"op": "add", "path": "/абзаци/-", "value": text}]))


def made_by(cache: StateCache, entry, *changes: LoggedChange, oldest_kept: int = 0) -> None:
    cache.hold(
        entry,
        head(entry.session_id, changes[-1].rev),
        STATE,
        made_by=changes,
        oldest_kept=oldest_kept,
    )


def test_changes_made_one_after_another_are_held_with_their_bytes():
    cache = StateCache(budget_bytes=10 * SIZE)
    entry = held_entry(cache, rev=1)
    made_by(cache, entry, change(2))
    made_by(cache, entry, change(3), change(4))
    assert list(entry.recent) == [change(2), change(3), change(4)]
    assert entry.footprint == SIZE + 3 * len(change(2).ops)
    assert entry.changes_after(2) == [change(3), change(4)]
    assert entry.changes_after(1) == [change(2), change(3), change(4)]
    assert entry.changes_after(0) is None  # rev 1's change was never seen here


def test_a_gap_starts_the_recent_changes_again():
    cache = StateCache(budget_bytes=10 * SIZE)
    entry = held_entry(cache, rev=1)
    made_by(cache, entry, change(2))
    made_by(cache, entry, change(5))
    assert list(entry.recent) == [change(5)]
    assert entry.changes_after(3) is None


def test_a_state_held_without_its_changes_holds_none():
    cache = StateCache(budget_bytes=10 * SIZE)
    entry = held_entry(cache, rev=1)
    made_by(cache, entry, change(2))
    cache.hold(entry, head(entry.session_id, 3), STATE)
    assert (list(entry.recent), entry.recent_bytes, entry.changes_after(2)) == ([], 0, None)


def test_what_the_log_no_longer_keeps_is_not_held():
    cache = StateCache(budget_bytes=10 * SIZE)
    entry = held_entry(cache, rev=1)
    made_by(cache, entry, change(2), change(3))
    made_by(cache, entry, change(4), oldest_kept=4)
    assert list(entry.recent) == [change(4)]
    assert entry.recent_bytes == len(change(4).ops)


@pytest.mark.parametrize(
    "count, text",
    [(limits.RECENT_CHANGES_HELD + 5, "ї"), (3, "ї" * (limits.RECENT_CHANGES_HELD_BYTES // 4))],
    ids=["count", "bytes"],
)
def test_the_oldest_recent_changes_go_past_their_bounds(count, text):
    cache = StateCache(budget_bytes=100 * limits.RECENT_CHANGES_HELD_BYTES)
    entry = held_entry(cache, rev=0)
    for rev in range(1, count + 1):
        made_by(cache, entry, change(rev, text))
    assert len(entry.recent) <= limits.RECENT_CHANGES_HELD
    assert entry.recent_bytes <= limits.RECENT_CHANGES_HELD_BYTES
    assert entry.recent_bytes == sum(len(c.ops) for c in entry.recent)
    assert [c.rev for c in entry.recent] == list(range(count - len(entry.recent) + 1, count + 1))
    assert entry.changes_after(0) is None


def test_forgetting_an_entry_forgets_its_recent_changes():
    cache = StateCache(budget_bytes=10 * SIZE)
    entry = held_entry(cache, rev=1)
    made_by(cache, entry, change(2))
    cache.forget(entry)
    assert (list(entry.recent), entry.recent_bytes, entry.footprint) == ([], 0, 0)
