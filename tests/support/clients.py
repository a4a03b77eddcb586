"""HTTP clients for tests: every response they return has passed spec validation."""

from __future__ import annotations

import datetime as dt

from starlette.testclient import TestClient

from solo.security.bearer import mint_token
from solo.settings import Settings
from tests.support.spec import assert_conforms

ORIGIN = "http://testserver"
API = "/api/v1/solo"


class SpecCheckedClient:
    """An in-process client whose every response is validated against the spec."""

    def __init__(self, app, settings: Settings) -> None:
        self._client = TestClient(app, raise_server_exceptions=False)
        self._settings = settings

    @staticmethod
    def token_headers(settings: Settings, user: str, ttl: int = 600) -> dict[str, str]:
        token = mint_token(settings, user, ttl, dt.datetime.now(dt.UTC))
        return {"Authorization": f"Bearer {token}"}

    def auth(self, user: str, ttl: int = 600) -> dict[str, str]:
        return self.token_headers(self._settings, user, ttl)

    def request(self, method: str, path: str, *, validate: bool = True, **kwargs):
        """`path` under the API base, or an absolute URL of this server (`ORIGIN...`)."""
        response = self._client.request(
            method, path if path.startswith(ORIGIN) else API + path, **kwargs
        )
        if validate:
            assert_conforms(response)
        return response

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)
