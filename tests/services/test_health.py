"""Readiness names each dependency that does not answer; an answer is reused briefly."""

import asyncio

import pytest

from solo.domain.errors import Unavailable
from solo.services.health import Readiness


def test_readiness_names_what_does_not_answer_and_reuses_a_fresh_answer(
    fake_db, store, monkeypatch
):
    async def probes():
        readiness = Readiness(fake_db, store)
        assert await readiness.checks() == {"database": "ok", "storage": "ok"}
        fake_db.down = store.down = True
        assert await readiness.checks() == {"database": "ok", "storage": "ok"}  # reused
        monkeypatch.setattr("solo.limits.READINESS_CACHE_SECONDS", 0)
        await asyncio.sleep(0.001)
        with pytest.raises(Unavailable) as unavailable:
            await readiness.checks()
        assert unavailable.value.checks == {"database": "unavailable", "storage": "unavailable"}
        fake_db.down = False
        await asyncio.sleep(0.001)
        with pytest.raises(Unavailable) as unavailable:
            await readiness.checks()
        assert unavailable.value.checks == {"database": "ok", "storage": "unavailable"}

    asyncio.run(probes())
    assert fake_db.calls == ["_ping"] * 3
