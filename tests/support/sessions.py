"""Sessions made through the API, for tests about what comes after the create."""

from __future__ import annotations

from solo.domain.jsonvalue import JsonValue


def create_session(client, state: JsonValue, user: str = "олена") -> str:
    """Creates a session owned by `user` and answers its id; a refused create fails the
    test here rather than as a puzzling 404 further on."""
    response = client.post("/sessions/", json={"state": state}, headers=client.auth(user))
    assert response.status_code == 201, response.text
    return response.json()["id"]
