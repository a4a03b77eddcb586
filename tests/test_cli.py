import os
import pathlib
import socket
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


def test_serve_on_a_port_taken_stops_with_a_clear_message_before_any_worker(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = run(
            *("serve", "--workers", "2", "--port", str(port)),
            SOLO_DATABASE_URL=f"sqlite:///{tmp_path}/solo.db",
            SOLO_STORAGE_URL=f"file://{tmp_path}/знімки",
            SOLO_JWT_SECRET=SECRET,
        )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"solo: cannot listen on 127.0.0.1:{port}: [Errno 98] Address already in use"
    )
