"""SOLO_ENV=production refuses to serve with settings unsafe there, naming every problem;
the new settings of retention, quotas and identity providers are read and checked."""

import os
import subprocess

import pytest

from solo import limits
from solo.settings import Settings, SettingsError
from solo.web.app import create_app_from_env
from tests.conftest import TEST_JWT_SECRET
from tests.support.server import SOLO, LiveServer

SAFE = {
    "SOLO_ENV": "production",
    "SOLO_JWT_SECRET": TEST_JWT_SECRET,
    "SOLO_PUBLIC_URL": "https://solo.example",
    "SOLO_METRICS_TOKEN": "скрейп".encode().hex(),
}
PROBLEMS = [
    "SOLO_JWT_SECRET is the public development secret: set your own",
    "SOLO_PUBLIC_URL is not set: absolute URLs would follow the Host header",
    "SOLO_VALIDATE_RESPONSES is on: it checks every answer, for tests only",
    "SOLO_METRICS_TOKEN is not set: /metrics would be open to anyone "
    "(set it, or SOLO_METRICS=false)",
    "SOLO_STORAGE_URL is a local folder while server processes may run on several machines "
    "(PostgreSQL): use s3://, or declare SOLO_ONE_MACHINE=true",
]


def serve(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SOLO_")}
    return subprocess.run(
        [str(SOLO), "serve", "--port", "1"],
        env={**clean, **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_serve_naming_every_problem(tmp_path):
    result = serve(
        tmp_path,
        SOLO_ENV="production",
        SOLO_VALIDATE_RESPONSES="true",
        SOLO_DATABASE_URL="postgresql+psycopg://solo@127.0.0.1:1/solo",
    )
    assert result.returncode == 2
    message = "solo: SOLO_ENV=production refuses to serve: " + "; ".join(PROBLEMS)
    assert result.stderr.strip().splitlines()[-1] == message
    assert list(tmp_path.iterdir()) == []  # refused before anything was created


def test_development_serves_with_the_same_settings(tmp_path):
    server = LiveServer({"SOLO_VALIDATE_RESPONSES": "true"}, cwd=tmp_path)
    server.stop()


def test_production_serves_with_safe_settings_several_processes_on_one_sqlite_file(tmp_path):
    env = {**SAFE, "SOLO_DATABASE_URL": f"sqlite:///{tmp_path}/solo.db"}
    server = LiveServer(env, workers=2, cwd=tmp_path)
    server.stop()


def test_a_local_folder_on_postgresql_is_accepted_on_one_declared_machine():
    settings = Settings.from_env({**SAFE, "SOLO_DATABASE_URL": "postgresql+psycopg://solo@db/solo"})
    assert settings.production_problems() == PROBLEMS[-1:]
    one_machine = Settings.from_env(
        {
            **SAFE,
            "SOLO_DATABASE_URL": "postgresql+psycopg://solo@db/solo",
            "SOLO_ONE_MACHINE": "true",
        }
    )
    assert one_machine.production_problems() == []
    on_s3 = Settings.from_env(
        {
            **SAFE,
            "SOLO_DATABASE_URL": "postgresql+psycopg://solo@db/solo",
            "SOLO_STORAGE_URL": "s3://кошик",
        }
    )
    assert on_s3.production_problems() == []
    no_metrics = Settings.from_env({**SAFE, "SOLO_METRICS_TOKEN": "", "SOLO_METRICS": "false"})
    assert no_metrics.production_problems() == []


def test_the_asgi_factory_refuses_too(monkeypatch):
    for name in [n for n in os.environ if n.startswith("SOLO_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SOLO_ENV", "production")
    with pytest.raises(SettingsError, match="SOLO_ENV=production refuses to serve"):
        create_app_from_env()


def test_the_defaults_of_retention_and_quotas():
    settings = Settings.from_env({})
    assert settings.env == "development"
    policy = settings.retention
    assert (policy.last, policy.hourly, policy.daily) == (10, 24, 30)
    assert settings.quotas.sessions == 10_000
    assert settings.quotas.bytes == 4 * 1024 * limits.MIB
    assert (settings.jwt_jwks_url, settings.jwt_issuer, settings.jwt_audience) == (None,) * 3


def test_the_new_variables_are_read():
    settings = Settings.from_env(
        {
            "SOLO_ENV": "production",
            "SOLO_ONE_MACHINE": "true",
            "SOLO_SNAPSHOTS_KEEP_LAST": "5",
            "SOLO_SNAPSHOTS_KEEP_HOURLY": "0",
            "SOLO_SNAPSHOTS_KEEP_DAILY": "7",
            "SOLO_QUOTA_SESSIONS": "100",
            "SOLO_QUOTA_MB": "2048",
            "SOLO_JWT_JWKS_URL": "https://вхід.example/.well-known/jwks.json",
            "SOLO_JWT_ISSUER": "https://вхід.example",
            "SOLO_JWT_AUDIENCE": "solo-api",
        }
    )
    assert (settings.env, settings.one_machine) == ("production", True)
    assert (settings.retention.last, settings.retention.hourly, settings.retention.daily) == (
        5,
        0,
        7,
    )
    assert (settings.quotas.sessions, settings.quotas.bytes) == (100, 2048 * limits.MIB)
    assert settings.jwt_jwks_url == "https://вхід.example/.well-known/jwks.json"
    assert (settings.jwt_issuer, settings.jwt_audience) == ("https://вхід.example", "solo-api")


def test_bad_values_of_the_new_variables_are_all_reported():
    env = {
        "SOLO_ENV": "prod",
        "SOLO_ONE_MACHINE": "так",
        "SOLO_SNAPSHOTS_KEEP_LAST": "0",
        "SOLO_SNAPSHOTS_KEEP_HOURLY": "-1",
        "SOLO_QUOTA_SESSIONS": "безліч",
        "SOLO_QUOTA_MB": "0",
        "SOLO_JWT_JWKS_URL": "ftp://вхід.example/jwks",
    }
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    for name in env:
        assert name in str(raised.value)
