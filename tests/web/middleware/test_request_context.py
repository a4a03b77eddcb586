"""The request id: chosen once, echoed on every response, errors included."""

import uuid

import pytest


@pytest.mark.parametrize(
    ("incoming", "echoed"),
    [("abc-123", True), ("a" * 200, True), ("a" * 201, False), ("з пробілом", False)],
)
def test_a_sane_request_id_is_echoed_and_any_other_replaced(client, incoming, echoed):
    response = client.get("/sessions/", headers={"X-Request-ID": incoming.encode()})
    assert response.status_code == 401
    returned = response.headers["X-Request-ID"]
    assert response.json()["request_id"] == returned
    if echoed:
        assert returned == incoming
    else:
        assert uuid.UUID(returned).version == 4


def test_every_response_gets_a_fresh_id_when_none_is_sent(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert first != second
