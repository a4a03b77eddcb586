import os
import pathlib
import subprocess
import sys

import sqlalchemy as sa

from solo.security.bearer import TokenVerifier
from solo.settings import Settings

SOLO = pathlib.Path(sys.executable).with_name("solo")
SECRET = "секрет-для-cli-0123456789abcdef0123456789"


def run(*args, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SOLO_")}
    return subprocess.run(
        [str(SOLO), *args], env={**environ, **env}, capture_output=True, text=True, timeout=60
    )


def test_token_prints_a_bearer_token_for_the_user():
    result = run("token", "олена", "--ttl", "120", SOLO_JWT_SECRET=SECRET)
    assert result.returncode == 0, result.stderr
    assert TokenVerifier(Settings(jwt_secret=SECRET)).caller(result.stdout.strip()).user == "олена"


def test_migrate_creates_the_schema(tmp_path):
    url = f"sqlite:///{tmp_path}/нова.db"
    result = run("migrate", SOLO_DATABASE_URL=url, SOLO_JWT_SECRET=SECRET)
    assert result.returncode == 0, result.stderr
    engine = sa.create_engine(url)
    try:
        assert "sessions" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_bad_environment_stops_the_cli_with_a_clear_message():
    result = run("token", "олена", SOLO_SIGNED_URL_TTL="вічно")
    assert result.returncode == 2
    assert "SOLO_SIGNED_URL_TTL" in result.stderr
