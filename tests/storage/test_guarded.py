"""The guarded store: every call on the store's own threads, within a deadline, and
each call's verb, outcome and time told to the metrics."""

import asyncio
import threading

import pytest

from solo.domain.errors import StorageUnavailable
from solo.storage import ExpiredOrForged
from solo.storage.guarded import GuardedStore
from solo.storage.local import LocalBlobStore

SIGNING_KEY = "ключ-підпису".encode()
DEADLINE = 0.05
"""Seconds a hanging call is given: short, since every test that passes it waits it out."""
DATA = '{"назва": "Чернетка"}'.encode()


class Observed:
    """What the guarded store told the metrics: (verb, outcome, seconds) per call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float]] = []

    def __call__(self, verb: str, outcome: str, seconds: float) -> None:
        self.calls.append((verb, outcome, seconds))

    def outcomes(self) -> list[tuple[str, str]]:
        return [(verb, outcome) for verb, outcome, _ in self.calls]


@pytest.fixture
def store(tmp_path, clock):
    return LocalBlobStore(tmp_path / "сховище", SIGNING_KEY, "/api/v1/solo/files", clock)


@pytest.fixture
def observed():
    return Observed()


@pytest.fixture
def release():
    """Set at the end of a test, so that a hanging call's thread ends with it."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def guarded(store, observed):
    """Guarded stores over `store`, closed after the test (their threads end with it)."""
    made: list[GuardedStore] = []

    def guard(deadline: float = DEADLINE) -> GuardedStore:
        made.append(GuardedStore(store, 1, deadline, observed))
        return made[-1]

    yield guard
    for guard_made in made:
        guard_made.close()


def hang_get(store, release: threading.Event) -> None:
    """The store's reads hang until `release`, as a store that stopped answering."""

    def get(key: str) -> bytes | None:
        release.wait()
        return None

    store.get = get


def test_calls_reach_the_store_and_are_observed(store, observed, guarded):
    async def scenario():
        guard = guarded(deadline=10)
        await guard.put("олена/знімок.json", DATA)
        return await guard.get("олена/знімок.json"), await guard.get("тарас/нема.json")

    assert asyncio.run(scenario()) == (DATA, None)
    assert observed.outcomes() == [("put", "ok"), ("get", "ok"), ("get", "ok")]


def test_a_call_past_the_deadline_is_storage_unavailable(store, observed, guarded, release):
    hang_get(store, release)

    async def scenario():
        await guarded().get("олена/знімок.json")

    with pytest.raises(StorageUnavailable) as refused:
        asyncio.run(scenario())
    assert (refused.value.checks, refused.value.detail) == (
        {"storage": "unavailable"},
        "the store did not answer in time",
    )
    [(verb, outcome, seconds)] = observed.calls
    assert (verb, outcome) == ("get", "late")
    assert seconds >= DEADLINE


def test_the_deadline_counts_the_wait_for_a_thread(store, observed, guarded, release):
    hang_get(store, release)

    async def scenario():
        guard = guarded()
        hanging = asyncio.create_task(guard.get("олена/знімок.json"))
        await asyncio.sleep(0)  # the task's first step: its get takes the one thread
        with pytest.raises(StorageUnavailable):
            await guard.put("тарас/знімок.json", DATA)
        with pytest.raises(StorageUnavailable):
            await hanging

    asyncio.run(scenario())
    assert sorted(observed.outcomes()) == [("get", "late"), ("put", "late")]


def test_a_failing_store_is_observed_as_an_error(store, observed, guarded):
    def put(key: str, data: bytes) -> None:
        raise StorageUnavailable("диск зайнятий")

    store.put = put

    async def scenario():
        await guarded().put("олена/знімок.json", DATA)

    with pytest.raises(StorageUnavailable) as refused:
        asyncio.run(scenario())
    assert refused.value.detail == "диск зайнятий"
    assert observed.outcomes() == [("put", "error")]


def test_a_forged_download_is_an_answer_not_an_error(store, observed, guarded):
    async def scenario():
        await guarded().download("підроблено")

    with pytest.raises(ExpiredOrForged):
        asyncio.run(scenario())
    assert observed.outcomes() == [("download", "ok")]


def test_a_check_has_its_own_deadline(store, observed, guarded, release):
    def check() -> None:
        release.wait()

    store.check = check

    async def scenario():
        await guarded(deadline=60).check(DEADLINE)

    with pytest.raises(StorageUnavailable):
        asyncio.run(scenario())
    assert observed.outcomes() == [("check", "late")]


def test_a_url_is_signed_where_it_is_asked_for_and_not_observed(store, observed, guarded):
    store.put("олена/знімок.json", DATA)
    url = guarded().url("олена/знімок.json", 60)
    assert store.download(url.rpartition("/")[2]) == DATA
    assert observed.calls == []
