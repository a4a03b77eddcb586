"""Beacons touch last_seen_at and keep the newest events; nothing else of the session."""

import datetime as dt
import uuid

import pytest

from solo.domain.errors import NotFound
from solo.services import sessions, telemetry
from tests.support.fakes import TelemetryEvent


def test_a_beacon_is_recorded_for_the_owner_only_and_the_oldest_events_go(fake_db, cache, clock):
    session = sessions.create_session(
        fake_db.unit_of_work(), cache, owner="олена", state={"а": 1}, clock=clock
    ).session
    for n in range(4):
        clock.now += dt.timedelta(seconds=1)
        telemetry.record_beacon(
            fake_db.unit_of_work(),
            owner="олена",
            session_id=session.id,
            payload={"подія": "збереження", "n": n},
            clock=clock,
            keep=2,
        )
    events = fake_db.tables.telemetry
    assert events == [
        TelemetryEvent(
            n + 1,
            session.id,
            "олена",
            clock.now - dt.timedelta(seconds=3 - n),
            {"подія": "збереження", "n": n},
        )
        for n in (2, 3)
    ]
    head = fake_db.tables.sessions[session.id]
    assert head.__class__(**{**session.__dict__, "last_seen_at": clock.now}) == head
    for owner, session_id in [("богдан", session.id), ("олена", uuid.uuid4())]:
        with pytest.raises(NotFound):
            telemetry.record_beacon(
                fake_db.unit_of_work(),
                owner=owner,
                session_id=session_id,
                payload={},
                clock=clock,
                keep=2,
            )
    assert len(fake_db.tables.telemetry) == 2
