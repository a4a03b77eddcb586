"""What event streams read: watch marks, heads, and the revisions since the last seen."""

import dataclasses
import datetime as dt
import uuid

import pytest

from solo import limits
from solo.domain.errors import NotFound
from solo.domain.model import KeptLog, Patch
from solo.domain.preconditions import from_headers
from solo.runtime.revision_feed import GONE, RevisionEvent
from solo.services import sessions, streams, writes

KEPT = KeptLog(changes=2, bytes=32 * limits.MIB)


def write(fake_db, cache, clock, session_id, value):
    clock.now += dt.timedelta(seconds=1)
    ops = [{"op": "replace", "path": "/текст", "value": value}]
    request = writes.Write("олена", session_id, from_headers("*", None), Patch(ops))
    return writes.write(fake_db.unit_of_work(), cache, request, clock=clock, kept=KEPT)


def test_watch_marks_the_sessions_and_answers_the_heads_of_those_that_exist(fake_db, cache, clock):
    session = sessions.create_session(
        fake_db.unit_of_work(), cache, owner="олена", state={"текст": "ґ"}, clock=clock
    ).session
    until = clock.now + dt.timedelta(minutes=5)
    missing = uuid.uuid4()
    assert streams.watch(fake_db.unit_of_work(), [session.id, missing], until) == {
        session.id: RevisionEvent(0, clock.now)
    }
    assert streams.head(fake_db.unit_of_work(), "олена", session.id) == dataclasses.replace(
        session, watched_until=until
    )
    with pytest.raises(NotFound):
        streams.head(fake_db.unit_of_work(), "богдан", session.id)


def test_news_are_each_kept_revision_since_the_last_seen_or_the_head_or_gone(fake_db, cache, clock):
    made = [
        sessions.create_session(
            fake_db.unit_of_work(), cache, owner="олена", state={"текст": "а"}, clock=clock
        ).session
        for _ in range(2)
    ]
    first, second = made[0].id, made[1].id
    times = [write(fake_db, cache, clock, first, "ї" * n).updated_at for n in range(1, 6)]
    small = '[{"op":"replace","path":"/текст","value":"%s"}]'
    news = streams.news(fake_db.unit_of_work(), {first: 3, second: 0, uuid.UUID(int=7): 0})
    assert news == {
        first: [
            RevisionEvent(rev, times[rev - 1], (small % ("ї" * rev)).encode()) for rev in (4, 5)
        ],
        uuid.UUID(int=7): [GONE],
    }
    # Compacted past the last seen: only what is kept; never delivered (-1): the head.
    assert sorted(fake_db.tables.changes) == [(first, 4), (first, 5)]
    assert streams.news(fake_db.unit_of_work(), {first: 0}) == {first: news[first]}
    assert streams.news(fake_db.unit_of_work(), {first: -1}) == {
        first: [RevisionEvent(5, times[4])]
    }
