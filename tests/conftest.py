"""Fixtures: a fresh database per test on SQLite and on the real PostgreSQL."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import os
import shutil
import uuid

import boto3
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from solo.db.migrate import upgrade
from solo.dependencies import Dependencies, utc_now
from solo.settings import Settings
from solo.web.app import create_app
from tests.support.clients import SpecCheckedClient
from tests.support.clock import FakeClock
from tests.support.s3 import CREDENTIALS, MotoServer

TEST_JWT_SECRET = "solo-tests-secret-ключ-0123456789abcdef"
POSTGRES_URL = os.environ.get("SOLO_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("SOLO_TEST_REDIS_URL", "")
UNTRIPPABLE_RATES = {
    f"rate_limit_{group}": "1000000/minute" for group in ("write", "beacon", "snapshot", "read")
}
"""Tests about other things must never meet a 429; rate-limit tests set their own."""


def _backends() -> list[str]:
    if POSTGRES_URL:
        return ["sqlite", "postgresql"]
    if os.environ.get("CI"):
        raise pytest.UsageError("CI must run the PostgreSQL suite: set SOLO_TEST_POSTGRES_URL")
    return ["sqlite"]


BACKENDS = _backends()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("template") / "solo.db"
    upgrade(f"sqlite:///{path}")
    return str(path)


@dataclasses.dataclass
class PostgresAdmin:
    engine: sa.Engine
    template: str
    dropper: concurrent.futures.ThreadPoolExecutor
    """Drops a test's database while the next test runs (a drop takes 0.1 to 0.3 s)."""
    creator: concurrent.futures.ThreadPoolExecutor
    """Makes the next test's database while this one runs (a copy of the template takes
    0.2 to 0.4 s, which each test on PostgreSQL waited for)."""
    next_one: concurrent.futures.Future[str] | None = None

    def take(self) -> str:
        """A fresh database copied from the template, whose name nobody else has."""
        made = self.next_one or self.creator.submit(self.create)
        self.next_one = self.creator.submit(self.create)
        return made.result()

    def create(self) -> str:
        name = f"solo_test_{uuid.uuid4().hex[:12]}"
        with self.engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name

    def close(self) -> None:
        self.creator.shutdown(wait=True)
        if self.next_one is not None:
            self.drop(self.next_one.result())
        self.dropper.shutdown(wait=True)
        self.drop(self.template)

    def drop_later(self, name: str) -> None:
        self.dropper.submit(self.drop, name)

    def drop(self, name: str) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_admin():
    engine = sa.create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    template = f"solo_template_{os.getpid()}"
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{template}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{template}"'))
    upgrade(make_url(POSTGRES_URL).set(database=template).render_as_string(hide_password=False))
    admin = PostgresAdmin(
        engine,
        template,
        dropper=concurrent.futures.ThreadPoolExecutor(1),
        creator=concurrent.futures.ThreadPoolExecutor(1),
    )
    yield admin
    admin.close()
    engine.dispose()


@contextlib.contextmanager
def postgres_database(admin: PostgresAdmin):
    name = admin.take()
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.drop_later(name)


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "solo.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    with postgres_database(request.getfixturevalue("postgres_admin")) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request, tmp_path):
    """A database with no schema at all, for tests of the migrations themselves."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    admin = request.getfixturevalue("postgres_admin")
    name = f"solo_empty_{uuid.uuid4().hex[:12]}"
    with admin.engine.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        admin.drop_later(name)


@pytest.fixture
def postgres_database_url(request):
    """A fresh PostgreSQL database, for tests about several server processes."""
    if not POSTGRES_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: set SOLO_TEST_POSTGRES_URL")
        pytest.skip("set SOLO_TEST_POSTGRES_URL (CI always does)")
    with postgres_database(request.getfixturevalue("postgres_admin")) as url:
        yield url


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        storage_url=f"file://{tmp_path}/snapshots",
        jwt_secret=TEST_JWT_SECRET,
        validate_responses=True,
        **UNTRIPPABLE_RATES,
    )


@pytest.fixture
def deps(settings):
    built = Dependencies.build(settings)
    yield built
    built.close()


@pytest.fixture
def client(settings, deps) -> SpecCheckedClient:
    return SpecCheckedClient(create_app(settings, deps), settings)


def server_env(settings: Settings) -> dict[str, str]:
    """The SOLO_* environment that makes `solo serve` use these settings."""
    env = {
        "SOLO_DATABASE_URL": settings.database_url,
        "SOLO_STORAGE_URL": settings.storage_url,
        "SOLO_JWT_SECRET": settings.jwt_secret,
        "SOLO_RATE_LIMIT_STORAGE": settings.rate_limit_storage,
        "SOLO_RATE_LIMIT_WRITE": settings.rate_limit_write,
        "SOLO_RATE_LIMIT_BEACON": settings.rate_limit_beacon,
        "SOLO_RATE_LIMIT_SNAPSHOT": settings.rate_limit_snapshot,
        "SOLO_RATE_LIMIT_READ": settings.rate_limit_read,
        "SOLO_VALIDATE_RESPONSES": "true" if settings.validate_responses else "false",
        "SOLO_EVENT_STREAMS_PER_USER": str(settings.event_streams_per_user),
        "SOLO_EVENT_STREAMS_PER_SESSION": str(settings.event_streams_per_session),
        "SOLO_DATABASE_WAIT_SECONDS": str(settings.database_wait_seconds),
        "SOLO_STORAGE_DEADLINE_SECONDS": str(settings.storage_deadline_seconds),
    }
    if settings.cors_origins:
        env["SOLO_CORS_ORIGINS"] = ",".join(settings.cors_origins)
    return env


@pytest.fixture(params=["sqlite", "postgresql"])
def servers_environment(request, tmp_path):
    """The SOLO_* environment of servers sharing one database (and its settings)."""
    if request.param == "sqlite":
        database = tmp_path / "solo.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), database)
        database_url = f"sqlite:///{database}"
    else:
        database_url = request.getfixturevalue("postgres_database_url")
    settings = Settings(database_url=database_url, jwt_secret=TEST_JWT_SECRET, **UNTRIPPABLE_RATES)
    env = server_env(dataclasses.replace(settings, storage_url=f"file://{tmp_path}/snapshots"))
    return env, settings


@pytest.fixture
def redis_url() -> str:
    """The real Redis this machine kind runs (CI always sets SOLO_TEST_REDIS_URL)."""
    if not REDIS_URL:
        if os.environ.get("CI"):
            pytest.fail("CI must run the Redis tests: set SOLO_TEST_REDIS_URL")
        pytest.skip("set SOLO_TEST_REDIS_URL")
    return REDIS_URL


@pytest.fixture(scope="session")
def moto():
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def aws_credentials(monkeypatch):
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    return CREDENTIALS


@pytest.fixture
def s3_bucket(moto, aws_credentials):
    """A fresh bucket on the moto server; its name."""
    name = f"solo-{uuid.uuid4().hex[:16]}"
    client = boto3.client("s3", endpoint_url=moto.endpoint_url)
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture(params=["local", "s3"])
def store_settings(request, settings):
    """The settings, with snapshots in a local folder or in S3 over HTTP."""
    if request.param == "local":
        return settings
    bucket = request.getfixturevalue("s3_bucket")
    return dataclasses.replace(
        settings,
        storage_url=f"s3://{bucket}/префікс",
        s3_endpoint_url=request.getfixturevalue("moto").endpoint_url,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client():
    """Build a spec-checked client on other settings or a fake clock; closed afterwards."""
    built: list[Dependencies] = []

    def make(
        settings: Settings, clock=utc_now, blob_store=None
    ) -> tuple[SpecCheckedClient, Dependencies]:
        deps = Dependencies.build(settings, clock=clock, blob_store=blob_store)
        built.append(deps)
        return SpecCheckedClient(create_app(settings, deps), settings), deps

    yield make
    for deps in built:
        deps.close()


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "slow(seconds): the test takes about this long on one core; under xdist the slow "
        "tests start first, spread over the workers (pytest_collection_modifyitems)",
    )


def pytest_collection_modifyitems(config, items):
    """Under xdist, the slow tests first, spread over the workers by their seconds.

    worksteal hands each worker a contiguous share of the collection (the first share to
    the first worker, and so on) and, once one runs dry, moves the tail of the longest
    queue over. A slow test left near the end of a share then runs alone while the other
    worker has nothing left: here each share starts with its slow tests, the longest
    first, and the shares' slow seconds are balanced (longest processing time first). A
    slow test with a module-scoped fixture moves with its whole module, so the fixture
    is still set up once. Every worker collects the same order (xdist checks it)."""
    workers = getattr(config, "workerinput", {}).get("workercount", 0)
    if workers >= 2:
        items[:] = _slow_first(items, workers)


def _slow_seconds(item) -> float:
    marker = item.get_closest_marker("slow")
    return float(marker.args[0]) if marker is not None else 0.0


def _module_scoped(item) -> bool:
    defs = getattr(item, "_fixtureinfo", None)
    return defs is not None and any(
        chain[-1].scope == "module" for chain in defs.name2fixturedefs.values() if chain
    )


def _slow_first(items: list, workers: int) -> list:
    units: dict[str, list] = {}
    for item in items:
        if _slow_seconds(item) > 0:
            key = item.module.__name__ if _module_scoped(item) else item.nodeid
            units.setdefault(key, [])
    for item in items:
        key = item.module.__name__ if item.module.__name__ in units else item.nodeid
        if key in units:
            units[key].append(item)
    shares: list[list] = [[] for _ in range(workers)]
    seconds = [0.0] * workers
    for unit in sorted(units.values(), key=lambda u: -sum(map(_slow_seconds, u))):
        lightest = seconds.index(min(seconds))
        shares[lightest] += unit
        seconds[lightest] += sum(map(_slow_seconds, unit))
    moved = {id(item) for share in shares for item in share}
    rest = [item for item in items if id(item) not in moved]
    ordered: list = []
    remaining = len(items)
    for index, share in enumerate(shares):
        size = remaining // (workers - index)  # what worksteal hands this worker
        filler = max(0, size - len(share))
        ordered += share + rest[:filler]
        rest = rest[filler:]
        remaining -= len(share) + filler
    return ordered + rest
