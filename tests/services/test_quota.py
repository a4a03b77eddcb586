"""Per-user quotas, counted in the transaction of the write they count."""

import pytest

from solo.domain.errors import QuotaExceeded
from solo.domain.model import SnapshotClaim, StoredSnapshot
from solo.domain.quotas import Quotas, Usage
from solo.services import quota, sessions
from tests.support.clock import START
from tests.support.fakes import FakeDatabase


@pytest.fixture
def fake_db():
    return FakeDatabase(Quotas(sessions=2, bytes=1000))


def charged(fake_db, owner="олена", **counts):
    with fake_db.unit_of_work().write() as uow:
        quota.admit(uow, owner=owner, **counts)
        uow.commit()
    return quota.usage(fake_db.unit_of_work(), owner=owner)


def test_growth_is_counted_within_the_quotas_and_shrinking_always_accepted(fake_db):
    with fake_db.unit_of_work().write() as uow:
        quota.admit_session(uow, owner="олена", state_bytes=600)
        uow.commit()
    assert charged(fake_db, more_bytes=400) == Usage(1, 1000)
    with pytest.raises(QuotaExceeded) as refused:
        charged(fake_db, more_bytes=1)
    assert (refused.value.quota, refused.value.limit, refused.value.used) == ("bytes", 1000, 1000)
    fake_db.quotas = Quotas(sessions=2, bytes=500)  # lowered since: room can still be made
    assert charged(fake_db, more_bytes=-100) == Usage(1, 900)
    assert charged(fake_db) == Usage(1, 900)


def test_sessions_are_checked_first_and_nothing_is_counted_when_refused(fake_db):
    assert charged(fake_db, owner="богдан") == Usage(0, 0)  # nothing asked: no row needed
    with fake_db.unit_of_work().write() as uow:
        quota.admit_session(uow, owner="олена", state_bytes=10)
        quota.admit_session(uow, owner="олена", state_bytes=10)
        uow.commit()
    with pytest.raises(QuotaExceeded) as refused:
        charged(fake_db, sessions=1, more_bytes=5000)
    assert (refused.value.quota, refused.value.limit, refused.value.used) == ("sessions", 2, 2)
    assert quota.usage(fake_db.unit_of_work(), owner="олена") == Usage(2, 20)


def test_a_deleted_session_gives_back_its_state_and_its_snapshots_claims_included(
    fake_db, cache, clock
):
    session = sessions.create_session(
        fake_db.unit_of_work(), cache, owner="олена", state={"а": "ї" * 40}, clock=clock
    ).session
    written = StoredSnapshot(0, "solo/олена/s/0.json", 100, START)
    claimed = StoredSnapshot(1, "solo/олена/s/1.json", 150, START)
    with fake_db.unit_of_work().write() as uow:
        quota.admit(uow, owner="олена", more_bytes=250)
        uow.snapshots.claim(session.id, written, "т1")
        uow.snapshots.complete(SnapshotClaim(session.id, written, "т1", "олена"))
        uow.snapshots.claim(session.id, claimed, "т2")
        uow.commit()
    assert quota.usage(fake_db.unit_of_work(), owner="олена") == Usage(1, session.size + 250)
    with fake_db.unit_of_work().write() as uow:
        quota.release_session(uow, session)
        uow.commit()
    assert quota.usage(fake_db.unit_of_work(), owner="олена") == Usage(0, 0)
    assert fake_db.tables.snapshots == {}
