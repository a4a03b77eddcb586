"""beacon_url, Location and snapshot URLs are absolute, usable as they are."""

import dataclasses

from tests.support.clients import ORIGIN

STATE = {"назва": "Чернетка"}


def _urls(client, headers=None):
    auth = {**client.auth("олена"), **(headers or {})}
    created = client.post("/sessions/", json={"state": STATE}, headers=auth)
    session_id = created.json()["id"]
    link = client.post(f"/sessions/{session_id}/snapshot/", headers=auth).json()
    return session_id, created.headers["Location"], created.json()["beacon_url"], link["url"]


def test_urls_are_built_on_the_public_url_when_it_is_set(settings, make_client):
    client, _ = make_client(dataclasses.replace(settings, public_url="https://solo.example:8443"))
    session_id, location, beacon_url, snapshot_url = _urls(client)
    api = "https://solo.example:8443/api/v1/solo"
    assert location == f"{api}/sessions/{session_id}/"
    assert beacon_url.startswith(f"{api}/sessions/{session_id}/beacon/?token=")
    assert snapshot_url.startswith(f"{api}/files/")


def test_otherwise_on_the_origin_the_request_came_to(client):
    session_id, location, beacon_url, snapshot_url = _urls(client)
    assert location == f"{ORIGIN}/api/v1/solo/sessions/{session_id}/"
    assert beacon_url.startswith(f"{ORIGIN}/api/v1/solo/sessions/{session_id}/beacon/?token=")
    assert snapshot_url.startswith(f"{ORIGIN}/api/v1/solo/files/")
    proxied = _urls(client, {"Host": "xn--e1afmkfd.example:8080"})
    assert proxied[1] == f"http://xn--e1afmkfd.example:8080/api/v1/solo/sessions/{proxied[0]}/"
