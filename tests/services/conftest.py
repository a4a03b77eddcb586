"""Fixtures of the fast service tests: the ports in memory (tests/support/fakes.py)."""

import pytest

from solo.runtime.state_cache import StateCache
from tests.support.fakes import FakeDatabase, FakeStore


@pytest.fixture
def fake_db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def cache() -> StateCache:
    return StateCache(64 * 1024 * 1024)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()
