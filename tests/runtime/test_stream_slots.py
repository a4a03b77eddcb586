"""The places of event streams: shared over processes in Redis with leases that run out
when their process dies, counted by each process alone when Redis does not answer, and
bounded per process by its file descriptors."""

import asyncio
import resource
import uuid

import pytest

from solo import limits
from solo.runtime import descriptors
from solo.runtime.stream_slots import ProcessFull, StreamSlots, TooManyStreams
from solo.settings import Settings
from tests.support.server import free_port

T0 = 1_796_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def refusal(slots: StreamSlots, user: str, session_id: uuid.UUID) -> tuple[str, int] | None:
    try:
        asyncio.run(slots.take(user, session_id))
    except TooManyStreams as refused:
        return refused.scope, refused.limit
    return None


def test_a_dead_processs_places_come_free_when_their_leases_run_out(redis_url, monkeypatch):
    settings = Settings(rate_limit_storage=redis_url, event_streams_per_user=2)
    clock = Clock()
    alive, dying = StreamSlots(settings, 100, clock), StreamSlots(settings, 100, clock)
    user, session_id = f"олена-{uuid.uuid4()}", uuid.uuid4()
    monkeypatch.setattr(limits, "EVENTS_HEARTBEAT_SECONDS", 0.01)

    async def renewed_once(slots: StreamSlots) -> None:
        renewing = asyncio.create_task(slots.renewing())
        await asyncio.sleep(0.1)
        renewing.cancel()

    kept = asyncio.run(alive.take(user, session_id))
    asyncio.run(dying.take(user, session_id))
    full = refusal(alive, user, session_id)
    clock.now += limits.EVENT_STREAM_LEASE_SECONDS - 1
    asyncio.run(renewed_once(alive))  # the dying process renews nothing any more
    clock.now += 2  # the dying process's lease ran out; the renewed one did not
    taken_again = refusal(alive, user, session_id)
    still_full = refusal(dying, user, session_id)
    asyncio.run(alive.give_back(kept))
    alive.close()
    dying.close()

    assert (full, taken_again, still_full) == (("user", 2), None, ("user", 2))


def test_without_redis_each_process_counts_its_own_streams(caplog):
    settings = Settings(
        rate_limit_storage=f"redis://127.0.0.1:{free_port()}/0",
        event_streams_per_user=3,
        event_streams_per_session=2,
    )
    slots = StreamSlots(settings, 100)
    session_id = uuid.uuid4()
    refusals = [refusal(slots, "олена", session_id) for _ in range(3)]
    refusals.append(refusal(slots, "олена", uuid.uuid4()))
    refusals.append(refusal(slots, "олена", uuid.uuid4()))
    slots.close()
    assert refusals == [None, None, ("session", 2), None, ("user", 3)]
    assert "stream counts' storage does not answer" in caplog.text


def test_a_slot_given_back_is_free_again_and_the_process_ceiling_holds():
    slots = StreamSlots(Settings(event_streams_per_user=1), ceiling=2)

    async def scenario():
        first = await slots.take("олена", uuid.uuid4())
        await slots.give_back(first)
        await slots.take("олена", uuid.uuid4())
        await slots.take("тарас", uuid.uuid4())
        with pytest.raises(ProcessFull) as full:
            await slots.take("марія", uuid.uuid4())
        return full.value.checks

    assert asyncio.run(scenario()) == {"streams": "unavailable"}


@pytest.mark.parametrize(
    ("soft", "allowed"),
    [
        (256, 256 - limits.DESCRIPTORS_RESERVED),
        (limits.DESCRIPTORS_RESERVED - 1, 0),
        (10**7, limits.EVENT_STREAMS_PER_PROCESS_MAX),
        (resource.RLIM_INFINITY, limits.EVENT_STREAMS_PER_PROCESS_MAX),
    ],
)
def test_streams_leave_the_reserved_descriptors_to_everything_else(monkeypatch, soft, allowed):
    monkeypatch.setattr(resource, "getrlimit", lambda _: (soft, resource.RLIM_INFINITY))
    assert descriptors.streams_allowed() == allowed
