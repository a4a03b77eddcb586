"""Snapshots on both stores: the local folder and S3 over HTTP (moto), downloaded for real."""

import dataclasses
import json

import httpx2
import pytest

from solo.domain import errors as domain
from tests.support.bodies import error_body
from tests.support.clients import ORIGIN
from tests.support.sessions import create_session
from tests.support.stores import is_local, stored_keys, stored_sizes

STATE = {"документ": "Звіт", "розділи": [{"назва": "Вступ", "текст": "Привіт"}]}


@pytest.fixture
def clocked(store_settings, clock, make_client):
    return make_client(store_settings, clock)


@pytest.fixture
def client(clocked):
    return clocked[0]


@pytest.fixture
def deps(clocked):
    return clocked[1]


def snapshot(client, session_id, user="олена", **headers):
    return client.post(
        f"/sessions/{session_id}/snapshot/", headers={**client.auth(user), **headers}
    )


def download(client, url):
    if url.startswith(ORIGIN):
        return client.get(url)
    return httpx2.get(url, timeout=10)


def key_prefix(deps):
    return "" if is_local(deps.settings) else "префікс/"


def test_a_snapshot_is_written_where_the_contract_says_and_downloads_without_a_token(client, deps):
    session_id = create_session(client, STATE)
    response = snapshot(client, session_id)
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "rev": 0,
        "url": body["url"],
        "expires_at": "2026-11-26T09:15:00Z",
        "name": None,
        "pinned": False,
    }
    origin = ORIGIN if is_local(deps.settings) else deps.settings.s3_endpoint_url
    assert body["url"].startswith(origin + "/")
    assert stored_keys(deps.settings) == [f"{key_prefix(deps)}solo/олена/{session_id}/0.json"]
    downloaded = download(client, body["url"])
    assert downloaded.status_code == 200
    assert json.loads(downloaded.content) == {
        "session_id": session_id,
        "rev": 0,
        "created_at": "2026-11-26T09:00:00Z",
        "state": STATE,
    }


def test_snapshotting_an_unchanged_rev_writes_nothing_again(client, deps, caplog):
    session_id = create_session(client, STATE)
    first = snapshot(client, session_id)
    with caplog.at_level("INFO", logger="solo.services.snapshots"):
        again = snapshot(client, session_id)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["rev"] == 0
    assert "snapshot written" not in caplog.text
    assert len(stored_keys(deps.settings)) == 1


def test_latest_and_list_follow_the_revs_newest_first(client, deps):
    session_id = create_session(client, STATE)
    auth = client.auth("олена")
    snapshot(client, session_id)
    client.patch(
        f"/sessions/{session_id}/diff/",
        json={"ops": [{"op": "add", "path": "/нове", "value": 1}]},
        headers={**auth, "If-Match": '"0"'},
    )
    assert snapshot(client, session_id).json()["rev"] == 1
    latest = client.get(f"/sessions/{session_id}/snapshot/latest/", headers=auth)
    assert latest.status_code == 200
    assert latest.json()["rev"] == 1
    assert json.loads(download(client, latest.json()["url"]).content)["state"]["нове"] == 1
    page = client.get(f"/sessions/{session_id}/snapshots/", headers=auth).json()
    assert [item["rev"] for item in page["items"]] == [1, 0]
    assert page["next_before_rev"] is None
    sizes = stored_sizes(deps.settings)
    prefix = f"{key_prefix(deps)}solo/олена/{session_id}/"
    assert [item["size"] for item in page["items"]] == [
        sizes[f"{prefix}{rev}.json"] for rev in (1, 0)
    ]
    first_page = client.get(f"/sessions/{session_id}/snapshots/", params={"limit": 1}, headers=auth)
    assert first_page.json()["next_before_rev"] == 1
    second_page = client.get(
        f"/sessions/{session_id}/snapshots/", params={"limit": 1, "before_rev": 1}, headers=auth
    )
    assert [item["rev"] for item in second_page.json()["items"]] == [0]


def test_any_listed_snapshot_can_be_fetched_by_rev(client, deps):
    session_id = create_session(client, STATE)
    auth = client.auth("олена")
    snapshot(client, session_id)
    client.post(
        f"/sessions/{session_id}/save-stream/",
        json={"друга": "версія"},
        headers={**auth, "If-Match": '"0"'},
    )
    snapshot(client, session_id)
    response = client.get(f"/sessions/{session_id}/snapshots/0/", headers=auth)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "rev": 0,
        "url": body["url"],
        "expires_at": "2026-11-26T09:15:00Z",
        "name": None,
        "pinned": False,
    }
    assert json.loads(download(client, body["url"]).content)["state"] == STATE


def test_a_rev_without_a_snapshot_is_404(client):
    session_id = create_session(client, STATE)
    snapshot(client, session_id)
    response = client.get(f"/sessions/{session_id}/snapshots/1/", headers=client.auth("олена"))
    assert response.status_code == 404
    assert response.json() == error_body(
        response, domain.NotFound, message="This session has no snapshot of that rev."
    )


def test_latest_without_any_snapshot_is_404(client):
    session_id = create_session(client, STATE)
    response = client.get(f"/sessions/{session_id}/snapshot/latest/", headers=client.auth("олена"))
    assert response.status_code == 404
    assert response.json() == error_body(
        response, domain.NotFound, message="This session has no snapshot yet."
    )


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("POST", "snapshot/"),
        ("GET", "snapshot/latest/"),
        ("GET", "snapshots/"),
        ("GET", "snapshots/0/"),
        ("GET", "export/"),
    ],
)
def test_a_strangers_session_is_404_everywhere(client, method, suffix):
    session_id = create_session(client, STATE, user="олена")
    response = client.request(
        method, f"/sessions/{session_id}/{suffix}", headers=client.auth("тарас")
    )
    assert response.status_code == 404
    assert response.json() == error_body(response, domain.NotFound)


def test_export_is_a_json_attachment_of_session_state_and_snapshots(client):
    session_id = create_session(client, STATE)
    snapshot(client, session_id)
    response = client.get(f"/sessions/{session_id}/export/", headers=client.auth("олена"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="solo-session-{session_id}.json"'
    )
    body = response.json()
    session = client.get(f"/sessions/{session_id}/", headers=client.auth("олена")).json()
    assert body == {
        "session": {k: session[k] for k in ("id", "rev", "created_at", "updated_at")},
        "state": STATE,
        "snapshots": [
            {
                "rev": 0,
                "created_at": "2026-11-26T09:00:00Z",
                "size": body["snapshots"][0]["size"],
                "name": None,
                "pinned": False,
            }
        ],
        "snapshots_truncated": False,
    }


def test_deleting_a_session_deletes_its_snapshots(client, deps):
    session_id = create_session(client, STATE)
    other = create_session(client, STATE)
    snapshot(client, session_id)
    snapshot(client, other)
    response = client.delete(
        f"/sessions/{session_id}/", headers={**client.auth("олена"), "If-Match": "*"}
    )
    assert response.status_code == 204
    assert stored_keys(deps.settings) == [f"{key_prefix(deps)}solo/олена/{other}/0.json"]
    gone = client.get(f"/sessions/{session_id}/snapshots/", headers=client.auth("олена"))
    assert gone.status_code == 404


def test_the_store_being_down_is_503_and_records_nothing(
    store_settings, clock, make_client, tmp_path
):
    if store_settings.storage_url.startswith("s3://"):
        broken = dataclasses.replace(store_settings, storage_url="s3://bucket-that-is-not-there")
    else:
        blocker = tmp_path / "не-тека"
        blocker.write_text("файл")
        broken = dataclasses.replace(store_settings, storage_url=f"file://{blocker}/snapshots")
    client, _ = make_client(broken, clock)
    session_id = create_session(client, STATE)
    response = snapshot(client, session_id)
    listed = client.get(f"/sessions/{session_id}/snapshots/", headers=client.auth("олена"))
    assert response.status_code == 503
    assert response.json() == {
        **error_body(response, domain.Unavailable({})),
        "checks": {"storage": "unavailable"},
    }
    assert listed.json()["items"] == []
