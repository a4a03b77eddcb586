import pytest

from solo import limits
from solo.settings import DEVELOPMENT_JWT_SECRET, Settings, SettingsError


def test_the_defaults_are_the_embedded_ones():
    settings = Settings.from_env({})
    assert settings == Settings(
        database_url="sqlite:///./var/solo.db",
        storage_url="file://./var/snapshots",
        s3_endpoint_url=None,
        rate_limit_storage="memory://",
        rate_limit_write=limits.RATE_LIMIT_WRITE,
        rate_limit_beacon=limits.RATE_LIMIT_BEACON,
        rate_limit_snapshot=limits.RATE_LIMIT_SNAPSHOT,
        rate_limit_read=limits.RATE_LIMIT_READ,
        jwt_secret=DEVELOPMENT_JWT_SECRET,
        jwt_public_key=None,
        signing_key=None,
        signed_url_ttl=limits.SIGNED_URL_TTL_SECONDS,
        cors_origins=(),
        public_url=None,
        metrics_token=None,
    )
    assert settings.uses_development_secret


def test_the_development_secret_is_announced_loudly(caplog):
    Settings.from_env({})
    assert "SOLO_JWT_SECRET is not set" in caplog.text


def test_every_variable_is_read():
    env = {
        "SOLO_DATABASE_URL": "postgresql+psycopg://solo@db/solo",
        "SOLO_STORAGE_URL": "s3://кошик/префікс",
        "SOLO_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "SOLO_RATE_LIMIT_STORAGE": "redis://127.0.0.1:6379/0",
        "SOLO_RATE_LIMIT_WRITE": "5/second",
        "SOLO_JWT_SECRET": "секрет-" + "x" * 40,
        "SOLO_SIGNED_URL_TTL": "60",
        "SOLO_CORS_ORIGINS": "https://a.example, https://b.example",
        "SOLO_PUBLIC_URL": "https://solo.example:8443/",
        "SOLO_STORAGE_THREADS": "2",
        "SOLO_BODY_DEADLINE_SECONDS": "90",
        "SOLO_DATABASE_WAIT_SECONDS": "7",
        "SOLO_REQUEST_HEAD_SECONDS": "3",
        "SOLO_STORAGE_DEADLINE_SECONDS": "11",
        "SOLO_ACCESS_LOG": "false",
        "SOLO_METRICS": "false",
        "SOLO_METRICS_TOKEN": "скрейп".encode().hex() + "-._~+/==",
        "SOLO_EVENT_STREAMS_PER_USER": "64",
        "SOLO_EVENT_STREAMS_PER_SESSION": "3",
    }
    settings = Settings.from_env(env)
    assert settings.database_url == env["SOLO_DATABASE_URL"]
    assert settings.storage_url == env["SOLO_STORAGE_URL"]
    assert settings.s3_endpoint_url == env["SOLO_S3_ENDPOINT_URL"]
    assert settings.rate_limit_storage == env["SOLO_RATE_LIMIT_STORAGE"]
    assert settings.rate_limit_write == "5/second"
    assert settings.signed_url_ttl == 60
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.public_url == "https://solo.example:8443"
    assert (settings.storage_threads, settings.body_deadline_seconds) == (2, 90)
    assert (settings.database_wait_seconds, settings.storage_deadline_seconds) == (7, 11)
    assert settings.request_head_seconds == 3
    assert (settings.access_log, settings.metrics) == (False, False)
    assert settings.metrics_token == env["SOLO_METRICS_TOKEN"]
    assert (settings.event_streams_per_user, settings.event_streams_per_session) == (64, 3)
    assert not settings.uses_development_secret


def test_bad_values_are_all_reported_at_once():
    env = {
        "SOLO_SIGNED_URL_TTL": "довго",
        "SOLO_RATE_LIMIT_READ": "багато",
        "SOLO_CORS_ORIGINS": "editor.example",
        "SOLO_STORAGE_URL": "ftp://x",
        "SOLO_PUBLIC_URL": "https://solo.example/api",
        "SOLO_ACCESS_LOG": "так",
        "SOLO_BODY_DEADLINE_SECONDS": "0",
        "SOLO_DATABASE_WAIT_SECONDS": "-1",
        "SOLO_STORAGE_DEADLINE_SECONDS": "пʼять",
        "SOLO_METRICS_TOKEN": "два слова",
        "SOLO_EVENT_STREAMS_PER_USER": str(limits.EVENT_STREAMS_PER_USER_MAX + 1),
    }
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    message = str(raised.value)
    for name in env:
        assert name in message


def test_the_signing_key_is_derived_from_the_secret_unless_given():
    derived = Settings(jwt_secret="a" * 40).effective_signing_key
    assert derived != b"a" * 40
    assert derived == Settings(jwt_secret="a" * 40).effective_signing_key
    assert (
        Settings(jwt_secret="a" * 40, signing_key="ключ").effective_signing_key == "ключ".encode()
    )


@pytest.mark.parametrize(
    "value",
    [
        "solo.example",
        "ftp://solo.example",
        "https://solo.example/префікс",
        "https://a@b",
        "https://",
    ],
)
def test_the_public_url_is_an_origin(value):
    with pytest.raises(SettingsError, match="SOLO_PUBLIC_URL"):
        Settings.from_env({"SOLO_PUBLIC_URL": value})
