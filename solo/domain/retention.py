"""Which snapshots a retention policy keeps: restic's and borg's `--keep-*` rules.

A session keeps its newest `last` snapshots; plus the newest of each clock hour (UTC) of
the last `hourly` hours, the current one included; plus the newest of each UTC day of the
last `daily` days; plus every pinned one. Unlike restic, whose `--keep-hourly 24` keeps the
24 most recent hours *that have snapshots* however old, the hours and days here are the
clock's: a session nobody touches for a month keeps its newest `last` and no more.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable

from solo.domain.model import StoredSnapshot

_HOUR = dt.timedelta(hours=1)
_DAY = dt.timedelta(days=1)


@dataclasses.dataclass(frozen=True)
class RetentionPolicy:
    last: int
    """The newest this many snapshots of each session (at least 1: the latest stays)."""
    hourly: int
    """The newest of each of the last this many clock hours (0: none)."""
    daily: int
    """The newest of each of the last this many days (0: none)."""


def kept(
    snapshots: Iterable[StoredSnapshot], policy: RetentionPolicy, now: dt.datetime
) -> set[int]:
    """The revs of the snapshots the policy keeps (pinned ones included)."""
    newest_first = sorted(snapshots, key=lambda s: s.rev, reverse=True)
    revs = {s.rev for s in newest_first[: policy.last]}
    revs |= {s.rev for s in newest_first if s.pinned}
    if policy.hourly:
        earliest = _hour_of(now) - (policy.hourly - 1) * _HOUR
        revs |= _newest_of_each(newest_first, _hour_of, earliest)
    if policy.daily:
        revs |= _newest_of_each(newest_first, _day_of, _day_of(now) - (policy.daily - 1) * _DAY)
    return revs


def collectable(
    snapshots: Iterable[StoredSnapshot], policy: RetentionPolicy, now: dt.datetime
) -> list[StoredSnapshot]:
    """The snapshots the policy lets go, oldest first."""
    every = list(snapshots)
    keep = kept(every, policy, now)
    return sorted((s for s in every if s.rev not in keep), key=lambda s: s.rev)


def next_review(
    snapshots: Iterable[StoredSnapshot], policy: RetentionPolicy, now: dt.datetime
) -> dt.datetime | None:
    """When the policy may let go of more of these snapshots with none added: when the
    current hour (or day) ends, if some are kept only for their hour or day; else never
    (only a new snapshot can push one out)."""
    newest_first = sorted(snapshots, key=lambda s: s.rev, reverse=True)
    if all(s.pinned for s in newest_first[policy.last :]):
        return None
    if policy.hourly:
        return _hour_of(now) + _HOUR
    return _day_of(now) + _DAY


def _newest_of_each(
    newest_first: list[StoredSnapshot],
    period_of: Callable[[dt.datetime], dt.datetime],
    earliest: dt.datetime,
) -> set[int]:
    """The newest snapshot of each period from `earliest` on (later ones included: a clock
    behind another process's counts as now)."""
    seen: set[dt.datetime] = set()
    revs = set()
    for snapshot in newest_first:
        period = period_of(snapshot.created_at)
        if period >= earliest and period not in seen:
            seen.add(period)
            revs.add(snapshot.rev)
    return revs


def _hour_of(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _day_of(moment: dt.datetime) -> dt.datetime:
    return _hour_of(moment).replace(hour=0)
