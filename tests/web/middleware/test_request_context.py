"""The request id: chosen once, echoed on every response, errors included."""

import pytest

from tests.support.request_ids import is_fresh_request_id


@pytest.mark.parametrize(
    ("incoming", "echoed"),
    [
        ("abc-123", True),
        ("trace-42.a:b_c", True),
        ("a" * 200, True),
        ("a" * 201, False),
        ("з пробілом", False),
        ("проба", False),
    ],
)
def test_a_sane_request_id_is_echoed_and_any_other_replaced(client, incoming, echoed):
    response = client.get("/sessions/", headers={"X-Request-ID": incoming.encode()})
    assert response.status_code == 401
    returned = response.headers["X-Request-ID"]
    assert response.json()["request_id"] == returned
    if echoed:
        assert returned == incoming
    else:
        assert is_fresh_request_id(returned)


def test_a_successful_response_echoes_the_id_too(client):
    response = client.get("/healthz", headers={"X-Request-ID": "trace-42.a:b_c"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "trace-42.a:b_c"


def test_every_response_gets_a_fresh_id_when_none_is_sent(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert is_fresh_request_id(first)
    assert is_fresh_request_id(second)
    assert first != second
