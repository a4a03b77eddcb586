"""`solo gc --dry-run` lists what the retention policy lets go; `solo gc` collects it,
objects included."""

import datetime as dt
import os
import subprocess

from tests.conftest import server_env
from tests.support.server import SOLO
from tests.support.stores import stored_keys

USER = "олена"
POLICY = {"SOLO_SNAPSHOTS_KEEP_LAST": "2", "SOLO_SNAPSHOTS_KEEP_HOURLY": "0"}


def gc(settings, *args):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SOLO_")}
    env = {**clean, **server_env(settings), **POLICY, "SOLO_SNAPSHOTS_KEEP_DAILY": "0"}
    return subprocess.run(
        [str(SOLO), "gc", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_gc_lists_then_collects_what_the_policy_lets_go(settings, clock, make_client):
    client, _deps = make_client(settings, clock)
    auth = client.auth(USER)
    going = []
    for _session in range(2):
        session_id = client.post("/sessions/", json={"state": {}}, headers=auth).json()["id"]
        for rev in range(5):
            clock.now += dt.timedelta(hours=7)
            if rev:
                client.post(
                    f"/sessions/{session_id}/save-stream/",
                    json={"версія": rev},
                    headers={**auth, "If-Match": "*"},
                )
            client.post(f"/sessions/{session_id}/snapshot/", headers=auth)
        pinned = client.patch(
            f"/sessions/{session_id}/snapshots/1/", json={"pinned": True}, headers=auth
        )
        assert pinned.status_code == 200
        listed = client.get(f"/sessions/{session_id}/snapshots/", headers=auth).json()["items"]
        going += [
            f"{item['created_at']}\t{item['size']}\tsolo/{USER}/{session_id}/{item['rev']}.json"
            for item in listed
            if item["rev"] in (0, 2)
        ]
    kept_keys = sorted(set(stored_keys(settings)) - {line.split("\t")[2] for line in going})
    total = sum(int(line.split("\t")[1]) for line in going)

    dry = gc(settings, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert sorted(dry.stdout.splitlines()) == sorted(going)
    assert dry.stderr.strip().splitlines()[-1] == f"4 snapshots ({total} bytes) would go"
    assert len(stored_keys(settings)) == 10

    collected = gc(settings)
    assert collected.returncode == 0, collected.stderr
    assert sorted(collected.stdout.splitlines()) == sorted(going)
    assert collected.stderr.strip().splitlines()[-1] == f"4 snapshots ({total} bytes) collected"
    assert stored_keys(settings) == kept_keys

    again = gc(settings, "--dry-run")
    assert (again.stdout, again.stderr.strip().splitlines()[-1]) == (
        "",
        "0 snapshots (0 bytes) would go",
    )
