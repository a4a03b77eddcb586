"""Set-up and checks through Solo's own API: users' tokens, their sessions, their revs."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt

import httpx2

from solo.security.bearer import mint_token
from solo.settings import Settings

TOKEN_TTL_SECONDS = 3 * 3600
HTTP_TIMEOUT_SECONDS = 60
CONCURRENCY = 4
"""Set-up requests in flight at once, so that a server of two processes uses both."""


@dataclasses.dataclass(frozen=True)
class Writer:
    """One user and the one session the benchmark writes for them."""

    token: str
    session_id: str

    @property
    def authorization(self) -> str:
        return f"Bearer {self.token}"


def token_for(user: str, secret: str) -> str:
    return mint_token(Settings(jwt_secret=secret), user, TOKEN_TTL_SECONDS, dt.datetime.now(dt.UTC))


def create_sessions(api_url: str, users: list[str], secret: str, state_body: bytes) -> list[Writer]:
    """One session per user, created with `state_body` (encoded JSON) as its state."""
    body = b'{"state":' + state_body + b"}"
    with httpx2.Client(base_url=api_url, timeout=HTTP_TIMEOUT_SECONDS) as http:

        def create(user: str) -> Writer:
            token = token_for(user, secret)
            created = http.post(
                "/sessions/",
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            if created.status_code != 201:
                raise RuntimeError(f"creating a session answered {created.status_code}")
            return Writer(token, created.json()["id"])

        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            return list(pool.map(create, users))


def current_revs(api_url: str, writers: list[Writer]) -> list[int]:
    """Each writer's session rev, from the session list (which carries no state)."""
    with httpx2.Client(base_url=api_url, timeout=HTTP_TIMEOUT_SECONDS) as http:

        def rev(writer: Writer) -> int:
            page = http.get(
                "/sessions/", params={"limit": 200}, headers={"Authorization": writer.authorization}
            )
            if page.status_code != 200:
                raise RuntimeError(f"listing sessions answered {page.status_code}")
            return {item["id"]: item["rev"] for item in page.json()["items"]}[writer.session_id]

        with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
            return list(pool.map(rev, writers))
