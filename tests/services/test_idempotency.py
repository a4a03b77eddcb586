"""Idempotency-Keys: work outside the database (a snapshot) runs once per key, and its
answer is replayed while the key is kept. On the in-memory unit of work."""

import asyncio
import datetime as dt

import pytest

from solo import limits
from solo.domain.errors import IdempotencyInProgress, IdempotencyKeyReused, StorageUnavailable
from solo.domain.model import StoredIdempotencyKey
from solo.services import idempotency
from solo.services.idempotency import Keyed, Outcome
from tests.support.fakes import KeyRow

KEYED = Keyed("ключ-знімка", "POST /знімки відбиток")
ANSWER = {"rev": 3, "назва": "Знімок ґ"}


def once(fake_db, clock, work, keyed=KEYED):
    return asyncio.run(
        idempotency.once(fake_db, owner="олена", keyed=keyed, clock=clock, work=work)
    )


def counted(calls: list, answer=(201, ANSWER)):
    async def work():
        calls.append(len(calls))
        return answer

    return work


def test_the_work_runs_once_and_its_answer_is_replayed_until_the_key_expires(fake_db, clock):
    calls: list[int] = []
    assert once(fake_db, clock, counted(calls)) == Outcome(201, ANSWER, replayed=False)
    expires = clock.now + dt.timedelta(seconds=limits.IDEMPOTENCY_TTL_SECONDS)
    assert fake_db.tables.keys == {
        ("олена", KEYED.key): KeyRow(KEYED.fingerprint, 201, ANSWER, expires)
    }
    clock.now = expires - dt.timedelta(microseconds=1)
    assert once(fake_db, clock, counted(calls)) == Outcome(201, ANSWER, replayed=True)
    assert calls == [0]
    clock.now = expires
    assert once(fake_db, clock, counted(calls, (200, {"ще": "раз"}))) == Outcome(
        200, {"ще": "раз"}, replayed=False
    )
    assert calls == [0, 1]


def test_another_request_with_the_key_is_refused_and_one_still_running_is_in_progress(
    fake_db, clock
):
    once(fake_db, clock, counted([]))
    with pytest.raises(IdempotencyKeyReused):
        once(fake_db, clock, counted([]), keyed=Keyed(KEYED.key, "інший запит"))
    assert once(fake_db, clock, counted([]), keyed=Keyed("ключ", "ф"), **{}).replayed is False

    async def nested():
        # The first request is running its work when the second arrives.
        return await idempotency.once(
            fake_db, owner="олена", keyed=Keyed("новий", "ф"), clock=clock, work=counted([])
        )

    async def first_work():
        with pytest.raises(IdempotencyInProgress):
            await nested()
        return 201, ANSWER

    assert once(fake_db, clock, first_work, keyed=Keyed("новий", "ф")) == Outcome(
        201, ANSWER, replayed=False
    )


def test_a_failed_work_releases_the_key_for_the_next_try(fake_db, clock):
    async def failing():
        raise StorageUnavailable("сховище мовчить")

    with pytest.raises(StorageUnavailable):
        once(fake_db, clock, failing)
    assert fake_db.tables.keys == {}
    assert once(fake_db, clock, counted([])) == Outcome(201, ANSWER, replayed=False)


def test_a_key_that_cannot_be_released_stays_until_it_expires(fake_db, clock, caplog):
    async def failing():
        fake_db.fail_commits = 1  # the release's commit
        raise StorageUnavailable("сховище мовчить")

    with pytest.raises(StorageUnavailable):
        once(fake_db, clock, failing)
    assert [row.status_code for row in fake_db.tables.keys.values()] == [None]
    assert "stays claimed until it expires" in caplog.text
    with pytest.raises(IdempotencyInProgress):
        once(fake_db, clock, counted([]))
    clock.now += dt.timedelta(seconds=limits.IDEMPOTENCY_TTL_SECONDS)
    assert once(fake_db, clock, counted([])).replayed is False


def test_answered_reads_a_write_key_inside_the_writes_transaction(fake_db, clock):
    with fake_db.unit_of_work().write() as uow:
        assert idempotency.answered(uow, "олена", None, clock.now) is None
        assert idempotency.answered(uow, "олена", KEYED, clock.now) is None
        uow.idempotency.record(
            "олена", KEYED.key, KEYED.fingerprint, status_code=200, body=ANSWER, now=clock.now
        )
        assert idempotency.answered(uow, "олена", KEYED, clock.now) == StoredIdempotencyKey(
            KEYED.fingerprint, 200, ANSWER
        )
        with pytest.raises(IdempotencyKeyReused):
            idempotency.answered(uow, "олена", Keyed(KEYED.key, "інший"), clock.now)
        assert idempotency.answered(uow, "богдан", KEYED, clock.now) is None


def test_a_delete_key_is_kept_a_day():
    now = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
    assert idempotency.delete_expires(now) == dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
