"""The retention policy's rules, on snapshots made at known times."""

import datetime as dt

from solo.domain.model import StoredSnapshot
from solo.domain.retention import RetentionPolicy, collectable, kept, next_review

NOW = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)


def made(rev, when, pinned=False):
    at = dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC)
    return StoredSnapshot(rev, f"solo/олена/сесія/{rev}.json", 100, at, None, pinned)


SNAPSHOTS = [
    made(1, "2026-11-20T10:00", pinned=True),
    made(2, "2026-11-25T08:00"),
    made(3, "2026-11-25T20:00"),
    made(4, "2026-11-26T06:10"),
    made(5, "2026-11-26T07:05"),
    made(6, "2026-11-26T07:50"),
    made(7, "2026-11-26T08:20"),
    made(8, "2026-11-26T09:01"),
    made(9, "2026-11-26T09:20"),
]
POLICY = RetentionPolicy(last=2, hourly=3, daily=2)


def test_each_tier_keeps_its_own_and_pinned_ones_stay():
    # last 2: 9, 8; the newest of hours 07, 08, 09: 6, 7, 9; of the days 25th and 26th: 3, 9;
    # pinned: 1.
    assert kept(SNAPSHOTS, POLICY, NOW) == {1, 3, 6, 7, 8, 9}
    assert [s.rev for s in collectable(SNAPSHOTS, POLICY, NOW)] == [2, 4, 5]


def test_an_hour_that_ends_can_let_more_go():
    assert next_review(SNAPSHOTS, POLICY, NOW) == dt.datetime(2026, 11, 26, 10, tzinfo=dt.UTC)
    later = dt.datetime(2026, 11, 26, 10, 0, tzinfo=dt.UTC)
    # Hour 07 left the three-hour window; 6 is not the newest of its day either.
    assert [s.rev for s in collectable(SNAPSHOTS, POLICY, later)] == [2, 4, 5, 6]


def test_hours_and_days_are_the_clocks_not_restics_hours_that_have_snapshots():
    month_old = [made(rev, f"2026-10-{rev:02d}T12:00") for rev in range(1, 8)]
    assert kept(month_old, RetentionPolicy(last=2, hourly=24, daily=30), NOW) == {6, 7}


def test_tiers_of_zero_keep_only_the_newest_and_pinned():
    policy = RetentionPolicy(last=1, hourly=0, daily=0)
    assert kept(SNAPSHOTS, policy, NOW) == {1, 9}
    assert next_review([SNAPSHOTS[0], SNAPSHOTS[-1]], policy, NOW) is None


def test_nothing_to_look_at_again_when_only_the_newest_and_pinned_are_left():
    assert next_review(SNAPSHOTS[:1] + SNAPSHOTS[-2:], POLICY, NOW) is None


def test_a_snapshot_stamped_ahead_of_this_clock_counts_as_now():
    ahead = [*SNAPSHOTS, made(10, "2026-11-26T11:00")]
    assert kept(ahead, RetentionPolicy(last=1, hourly=1, daily=0), NOW) == {1, 9, 10}
