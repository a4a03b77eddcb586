"""Per-user quotas: refused with the contract's error, counted exactly, on both databases
(PostgreSQL's one-statement write included)."""

import dataclasses

import pytest
import sqlalchemy as sa

from solo import limits
from solo.db.models import SessionRow, SnapshotRow
from solo.domain import errors as domain
from tests.support.bodies import error_body

USER = "олена"
QUOTAS = {"quota_sessions": 3, "quota_mb": 1}
QUOTA_BYTES = limits.MIB


@pytest.fixture
def quota_settings(store_settings):
    return dataclasses.replace(store_settings, **QUOTAS)


@pytest.fixture
def clocked(quota_settings, clock, make_client):
    return make_client(quota_settings, clock)


@pytest.fixture
def client(clocked):
    return clocked[0]


@pytest.fixture
def deps(clocked):
    return clocked[1]


def create(client, state, user=USER):
    return client.post("/sessions/", json={"state": state}, headers=client.auth(user))


def diff(client, session_id, ops):
    return client.patch(
        f"/sessions/{session_id}/diff/",
        json={"ops": ops},
        headers={**client.auth(USER), "If-Match": "*"},
    )


def usage(client, user=USER):
    response = client.get("/usage/", headers=client.auth(user))
    assert response.status_code == 200
    return response.json()


def text_of(size):
    """A state whose canonical JSON is `size` bytes: {"т":"…"} is 9 bytes of framing."""
    return {"т": "ж" * ((size - 9) // 2)}


def recounted(deps, user=USER):
    """What the user stores, counted from the rows themselves."""
    with deps.database.engine.connect() as connection:
        sessions = connection.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(SessionRow.size), 0)).where(
                SessionRow.owner == user
            )
        ).one()
        snapshots = connection.execute(
            sa.select(sa.func.coalesce(sa.func.sum(SnapshotRow.size), 0))
            .join(SessionRow, SessionRow.id == SnapshotRow.session_id)
            .where(SessionRow.owner == user)
        ).scalar()
    return {"sessions": sessions[0], "bytes": sessions[1] + snapshots}


def test_usage_is_the_callers_own(client):
    first = create(client, {"назва": "Чернетка"}).json()["id"]
    create(client, {})
    create(client, {"чуже": True}, user="тарас")
    client.post(f"/sessions/{first}/snapshot/", headers=client.auth(USER))
    snapshot_size = client.get(f"/sessions/{first}/snapshots/", headers=client.auth(USER)).json()
    state_bytes = len('{"назва":"Чернетка"}'.encode()) + len(b"{}")
    assert usage(client) == {
        "sessions": {"used": 2, "limit": 3},
        "bytes": {"used": state_bytes + snapshot_size["items"][0]["size"], "limit": QUOTA_BYTES},
    }
    assert usage(client, user="нова")["sessions"] == {"used": 0, "limit": 3}


def test_a_create_past_the_sessions_quota_is_403_until_one_is_deleted(client):
    ids = [create(client, {"номер": n}).json()["id"] for n in range(3)]
    refused = create(client, {"номер": 3})
    assert refused.status_code == 403
    assert refused.json() == error_body(
        refused, domain.QuotaExceeded, quota="sessions", limit=3, used=3
    )
    assert usage(client)["sessions"]["used"] == 3
    deleted = client.delete(f"/sessions/{ids[0]}/", headers={**client.auth(USER), "If-Match": "*"})
    assert deleted.status_code == 204
    assert create(client, {"номер": 3}).status_code == 201


def test_a_create_past_the_bytes_quota_is_403(client):
    assert create(client, text_of(700 * limits.KIB)).status_code == 201
    refused = create(client, text_of(400 * limits.KIB))
    assert refused.status_code == 403
    used = 700 * limits.KIB - 1
    assert refused.json() == error_body(
        refused, domain.QuotaExceeded, quota="bytes", limit=QUOTA_BYTES, used=used
    )
    assert usage(client)["sessions"]["used"] == 1


def test_a_diff_past_the_bytes_quota_is_403_and_changes_nothing_a_shrinking_one_passes(
    client, deps
):
    session_id = create(client, text_of(600 * limits.KIB)).json()["id"]
    grown = diff(client, session_id, [{"op": "add", "path": "/б", "value": "ш" * 100_000}])
    assert grown.status_code == 200  # warms the cache: on PostgreSQL, the one-statement write
    used = usage(client)["bytes"]["used"]
    refused = diff(client, session_id, [{"op": "add", "path": "/в", "value": "щ" * 200_000}])
    assert refused.status_code == 403
    assert refused.json() == error_body(
        refused, domain.QuotaExceeded, quota="bytes", limit=QUOTA_BYTES, used=used
    )
    state = client.get(f"/sessions/{session_id}/", headers=client.auth(USER))
    assert (state.headers["ETag"], sorted(state.json()["state"])) == ('"1"', ["б", "т"])
    shrunk = diff(client, session_id, [{"op": "remove", "path": "/б"}])
    assert shrunk.status_code == 200
    assert usage(client)["bytes"]["used"] == recounted(deps)["bytes"] == 600 * limits.KIB - 1


def test_a_user_over_a_lowered_quota_can_still_shrink(quota_settings, clock, make_client):
    roomy, _deps = make_client(dataclasses.replace(quota_settings, quota_mb=2), clock)
    session_id = create(roomy, text_of(1500 * limits.KIB)).json()["id"]
    lowered, _deps = make_client(quota_settings, clock)
    grown = diff(lowered, session_id, [{"op": "add", "path": "/ще", "value": "трохи"}])
    assert grown.status_code == 403
    assert grown.json() == error_body(
        grown, domain.QuotaExceeded, quota="bytes", limit=QUOTA_BYTES, used=1500 * limits.KIB - 1
    )
    shrunk = diff(lowered, session_id, [{"op": "replace", "path": "/т", "value": "коротко"}])
    assert shrunk.status_code == 200
    assert usage(lowered)["bytes"]["used"] == len('{"т":"коротко"}'.encode())


@pytest.mark.parametrize("operation", ["save-stream", "restore", "snapshot"])
def test_every_write_that_stores_more_is_held_to_the_bytes_quota(client, operation):
    session_id = create(client, text_of(100 * limits.KIB)).json()["id"]
    auth = {**client.auth(USER), "If-Match": "*"}
    big = text_of(600 * limits.KIB)
    assert client.post(f"/sessions/{session_id}/save-stream/", json=big, headers=auth).status_code
    if operation == "save-stream":
        response = client.post(
            f"/sessions/{session_id}/save-stream/", json=text_of(1100 * limits.KIB), headers=auth
        )
    elif operation == "restore":
        client.post(f"/sessions/{session_id}/save-stream/", json={}, headers=auth)
        create(client, text_of(500 * limits.KIB))
        response = client.post(f"/sessions/{session_id}/restore/", json={"rev": 1}, headers=auth)
    else:
        create(client, text_of(300 * limits.KIB))
        response = client.post(f"/sessions/{session_id}/snapshot/", headers=client.auth(USER))
    assert response.status_code == 403
    assert response.json() == error_body(
        response,
        domain.QuotaExceeded,
        quota="bytes",
        limit=QUOTA_BYTES,
        used=usage(client)["bytes"]["used"],
    )


def test_usage_counts_exactly_what_is_stored_through_every_kind_of_write(client, deps):
    auth = client.auth(USER)
    first = create(client, {"абзаци": []}).json()["id"]
    second = create(client, text_of(10_000)).json()["id"]
    for n in range(30):
        diff(client, first, [{"op": "add", "path": "/абзаци/-", "value": f"абзац {n}"}])
        if n % 3 == 0:
            diff(client, first, [{"op": "remove", "path": "/абзаци/0"}])
        if n % 10 == 0:
            client.post(f"/sessions/{first}/snapshot/", headers=auth)
    client.post(f"/sessions/{second}/snapshot/", headers=auth)
    client.post(
        f"/sessions/{first}/save-stream/",
        json={"нове": "ціле"},
        headers={**auth, "If-Match": "*"},
    )
    client.post(f"/sessions/{first}/restore/", json={"rev": 5}, headers={**auth, "If-Match": "*"})
    oldest = client.get(f"/sessions/{first}/snapshots/", headers=auth).json()["items"][-1]
    deleted = client.delete(f"/sessions/{first}/snapshots/{oldest['rev']}/", headers=auth)
    assert deleted.status_code == 204
    assert usage(client)["bytes"]["used"] == recounted(deps)["bytes"]
    assert usage(client)["sessions"]["used"] == recounted(deps)["sessions"] == 2
    client.delete(f"/sessions/{second}/", headers={**auth, "If-Match": "*"})
    assert usage(client)["bytes"]["used"] == recounted(deps)["bytes"]
    assert usage(client)["sessions"]["used"] == 1
