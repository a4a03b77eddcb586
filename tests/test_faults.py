"""A hung dependency answers 503 for what needs it, within seconds, and slows nothing else.

Each test freezes a dependency of a live server (moto stopped with SIGSTOP, a row or a
table or the whole SQLite database locked by another connection), floods the server with
requests that need it, and times a bystander's diff and /healthz meanwhile. The bounds
are generous for a loaded CI machine: they catch the 28 s of a shared, exhausted pool,
not milliseconds. And connections PostgreSQL ends (a restart, a failover) cost no answer.
"""

import concurrent.futures
import contextlib
import dataclasses
import shutil
import sqlite3
import time
import uuid

import boto3
import httpx2
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from solo import limits
from solo.db.listener import LISTENER_APPLICATION_NAME
from solo.settings import Settings
from tests.conftest import TEST_JWT_SECRET, UNTRIPPABLE_RATES, server_env
from tests.support.clients import SpecCheckedClient
from tests.support.s3 import MotoServer
from tests.support.server import LiveServer

FLOOD = 40
BYSTANDER_SECONDS = 3.0
"""The bystander's diff and /healthz, while a dependency hangs for others."""
WAIT = 1
"""The servers' SOLO_DATABASE_WAIT_SECONDS and SOLO_STORAGE_DEADLINE_SECONDS: shorter than
the defaults, so that each flood is answered in seconds (the defaults' 503s come from the
same code; tests/test_settings.py reads both settings)."""
REFUSAL_SECONDS = 3 * WAIT + 5
"""The longest a request that needs the hung dependency may take to answer 503."""


def start(settings: Settings, tmp_path, name: str, **env: str) -> LiveServer:
    return LiveServer({**server_env(settings), **env}, log_path=tmp_path / f"{name}.log")


def auth(settings, user):
    return SpecCheckedClient.token_headers(settings, user)


def create(server, headers) -> str:
    response = httpx2.post(server.api_url + "/sessions/", json={"state": {}}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def bystander(server, settings, session_id: str) -> None:
    """The other user's diff and the liveness probe answer, and fast."""
    headers = auth(settings, "бджілка")
    diffed, diff_seconds = timed(
        lambda: httpx2.patch(
            f"{server.api_url}/sessions/{session_id}/diff/",
            json={"ops": [{"op": "add", "path": "/крок", "value": 1}]},
            headers={**headers, "If-Match": "*"},
            timeout=60,
        )
    )
    health, health_seconds = timed(lambda: httpx2.get(server.api_url + "/healthz", timeout=60))
    assert (diffed.status_code, health.status_code) == (200, 200), diffed.text
    assert diff_seconds < BYSTANDER_SECONDS, f"the bystander's diff took {diff_seconds:.1f} s"
    assert health_seconds < BYSTANDER_SECONDS, f"/healthz took {health_seconds:.1f} s"


def assert_unavailable(response, seconds: float, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == str(limits.RETRY_AFTER_SECONDS)
    assert response.json()["checks"][dependency] == "unavailable"
    assert seconds < REFUSAL_SECONDS, f"a 503 took {seconds:.1f} s"


@pytest.fixture
def frozen_store(aws_credentials):
    """A moto server of this test's own, to freeze."""
    moto = MotoServer()
    bucket = f"solo-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=moto.endpoint_url).create_bucket(Bucket=bucket)
    yield moto, bucket
    moto.stop()


@pytest.mark.slow(13)
def test_a_frozen_store_is_503_for_snapshots_and_slows_no_one_else(
    sqlite_template, tmp_path, frozen_store
):
    moto, bucket = frozen_store
    shutil.copyfile(sqlite_template, tmp_path / "solo.db")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/solo.db",
        storage_url=f"s3://{bucket}",
        s3_endpoint_url=moto.endpoint_url,
        jwt_secret=TEST_JWT_SECRET,
        database_wait_seconds=WAIT,
        storage_deadline_seconds=WAIT,
        **UNTRIPPABLE_RATES,
    )
    server = start(settings, tmp_path, "server", SOLO_S3_ENDPOINT_URL=moto.endpoint_url)
    try:
        users = [auth(settings, user) for user in ("олена", "тарас")]
        sessions = [create(server, headers) for headers in users]
        other = create(server, auth(settings, "бджілка"))
        moto.freeze()
        time.sleep(limits.READINESS_CACHE_SECONDS)  # the startup probe's answer has expired

        def snapshot(index: int):
            return timed(
                lambda: httpx2.post(
                    f"{server.api_url}/sessions/{sessions[index % 2]}/snapshot/",
                    headers=users[index % 2],
                    timeout=120,
                )
            )

        def ready(_index: int):
            return timed(lambda: httpx2.get(server.api_url + "/readyz", timeout=120))

        with concurrent.futures.ThreadPoolExecutor(2 * FLOOD) as pool:
            snapshots = [pool.submit(snapshot, index) for index in range(FLOOD)]
            probes = [pool.submit(ready, index) for index in range(FLOOD)]
            time.sleep(1)
            bystander(server, settings, other)
            for future in snapshots:
                assert_unavailable(*future.result(), "storage")
            for future in probes:
                response, seconds = future.result()
                assert response.status_code == 503, response.text
                # A probe needs the hung store too: the same bound as a refusal (on a slow
                # machine, 80 clients at once put one probe past the check's deadline + 3 s).
                assert seconds < REFUSAL_SECONDS, f"a probe took {seconds:.1f} s"
        moto.thaw()
        time.sleep(limits.READINESS_CACHE_SECONDS)
        recovered = httpx2.post(
            f"{server.api_url}/sessions/{sessions[0]}/snapshot/", headers=users[0], timeout=60
        )
        assert recovered.status_code == 201, recovered.text
    finally:
        moto.thaw()
        server.stop()


@contextlib.contextmanager
def postgres_lock(database_url: str, statement: str, **params):
    engine = sa.create_engine(make_url(database_url))
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(sa.text(statement), params)
            yield
    finally:
        engine.dispose()


def flood_of_diffs(server, headers, session_id: str):
    def diff(_index: int):
        return timed(
            lambda: httpx2.patch(
                f"{server.api_url}/sessions/{session_id}/diff/",
                json={"ops": [{"op": "add", "path": "/спроба", "value": 1}]},
                headers={**headers, "If-Match": "*"},
                timeout=120,
            )
        )

    pool = concurrent.futures.ThreadPoolExecutor(FLOOD)
    return pool, [pool.submit(diff, index) for index in range(FLOOD)]


@pytest.mark.slow(7)
def test_connections_postgresql_ended_are_replaced_before_any_request_meets_them(
    postgres_database_url, tmp_path
):
    settings = Settings(
        database_url=postgres_database_url,
        storage_url=f"file://{tmp_path}/s",
        jwt_secret=TEST_JWT_SECRET,
        **UNTRIPPABLE_RATES,
    )
    server = start(settings, tmp_path, "s")
    try:
        headers = auth(settings, "олена")
        session_id = create(server, headers)
        pool, diffs = flood_of_diffs(server, headers, session_id)
        assert {future.result()[0].status_code for future in diffs} == {200}
        pool.shutdown()
        ended = _end_pooled_connections(postgres_database_url)
        pool, diffs = flood_of_diffs(server, headers, session_id)
        answers = [future.result()[0] for future in diffs]
        pool.shutdown()
        assert ended >= 1
        assert [r.status_code for r in answers if r.status_code != 200] == []
        after = httpx2.get(f"{server.api_url}/sessions/{session_id}/", headers=headers).json()
        assert after["rev"] == 2 * FLOOD
    finally:
        server.stop()


def _end_pooled_connections(database_url: str) -> int:
    """pg_terminate_backend on the server's pooled connections (not its listener's)."""
    engine = sa.create_engine(make_url(database_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            return len(
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        " AND application_name <> :listener"
                    ),
                    {"listener": LISTENER_APPLICATION_NAME},
                ).all()
            )
    finally:
        engine.dispose()


@pytest.mark.slow(13)
def test_a_locked_row_is_503_for_its_writers_and_slows_no_one_else(postgres_database_url, tmp_path):
    settings = Settings(
        database_url=postgres_database_url,
        jwt_secret=TEST_JWT_SECRET,
        database_wait_seconds=WAIT,
        **UNTRIPPABLE_RATES,
    )
    server = start(dataclasses.replace(settings, storage_url=f"file://{tmp_path}/s"), tmp_path, "s")
    try:
        headers = auth(settings, "олена")
        locked = create(server, headers)
        other = create(server, auth(settings, "бджілка"))
        lock = "SELECT 1 FROM sessions WHERE id = :id FOR UPDATE"
        with postgres_lock(postgres_database_url, lock, id=uuid.UUID(locked)):
            pool, diffs = flood_of_diffs(server, headers, locked)
            time.sleep(1)
            bystander(server, settings, other)
            for future in diffs:
                assert_unavailable(*future.result(), "database")
            pool.shutdown()
        after = httpx2.get(f"{server.api_url}/sessions/{locked}/", headers=headers).json()
        assert after["rev"] == 0
    finally:
        server.stop()


@pytest.mark.slow(13)
def test_a_locked_table_is_503_within_seconds_and_liveness_stays_fast(
    postgres_database_url, tmp_path
):
    settings = Settings(
        database_url=postgres_database_url,
        jwt_secret=TEST_JWT_SECRET,
        database_wait_seconds=WAIT,
        **UNTRIPPABLE_RATES,
    )
    server = start(dataclasses.replace(settings, storage_url=f"file://{tmp_path}/s"), tmp_path, "s")
    try:
        headers = auth(settings, "олена")
        session_id = create(server, headers)
        with postgres_lock(postgres_database_url, "LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE"):
            pool, diffs = flood_of_diffs(server, headers, session_id)
            time.sleep(1)
            health, seconds = timed(lambda: httpx2.get(server.api_url + "/healthz", timeout=60))
            assert (health.status_code, seconds < BYSTANDER_SECONDS) == (200, True), seconds
            for future in diffs:
                assert_unavailable(*future.result(), "database")
            pool.shutdown()
    finally:
        server.stop()


@pytest.mark.slow(12)
def test_a_locked_sqlite_database_is_503_for_writers_while_reads_go_on(sqlite_template, tmp_path):
    shutil.copyfile(sqlite_template, tmp_path / "solo.db")
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/solo.db",
        storage_url=f"file://{tmp_path}/s",
        jwt_secret=TEST_JWT_SECRET,
        database_wait_seconds=WAIT,
        storage_deadline_seconds=WAIT,
        **UNTRIPPABLE_RATES,
    )
    server = start(settings, tmp_path, "server")
    holder = sqlite3.connect(tmp_path / "solo.db", isolation_level=None)
    try:
        headers = auth(settings, "олена")
        session_id = create(server, headers)
        reader = auth(settings, "бджілка")
        other = create(server, reader)
        holder.execute("BEGIN IMMEDIATE")
        pool, diffs = flood_of_diffs(server, headers, session_id)
        time.sleep(1)
        read, read_seconds = timed(
            lambda: httpx2.get(f"{server.api_url}/sessions/{other}/", headers=reader, timeout=60)
        )
        health, health_seconds = timed(lambda: httpx2.get(server.api_url + "/healthz", timeout=60))
        assert (read.status_code, health.status_code) == (200, 200)
        assert max(read_seconds, health_seconds) < BYSTANDER_SECONDS
        for future in diffs:
            assert_unavailable(*future.result(), "database")
        pool.shutdown()
    finally:
        holder.close()
        server.stop()
