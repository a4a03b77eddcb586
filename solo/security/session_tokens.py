"""Tokens that open one thing of one session (its beacon, its events) from a URL, for what
a browser cannot send `Authorization` with (sendBeacon, EventSource)."""

from __future__ import annotations

import datetime as dt
import uuid

from solo.security import CredentialRefused, NotThisResource
from solo.security.bearer import Caller
from solo.security.sealing import BadSeal, Sealer


class SessionTokens:
    """Tokens that open one thing of one session (its beacon, its events), for as long as
    the caller's bearer token; for what a browser cannot send `Authorization` with."""

    def __init__(self, signing_key: bytes, purpose: str) -> None:
        self._sealer = Sealer(signing_key, purpose)
        self._purpose = purpose

    def mint(self, session_id: uuid.UUID, caller: Caller) -> str:
        return self._sealer.seal([str(session_id), caller.user, caller.expires_at])

    def caller_for(self, token: str, session_id: str, now: dt.datetime) -> Caller:
        try:
            claimed_session, user, expires_at = self._sealer.unseal(token)
        except (BadSeal, ValueError):
            raise CredentialRefused(
                f"The {self._purpose} token is malformed or forged.", reason="invalid"
            ) from None
        if not isinstance(expires_at, int) or expires_at <= now.timestamp():
            raise CredentialRefused(f"The {self._purpose} token has expired.", reason="expired")
        if claimed_session != _canonical_uuid(session_id):
            raise NotThisResource(f"This {self._purpose} token belongs to another session.")
        return Caller(user, expires_at)


def _canonical_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None
