"""Who is calling: bearer JWTs, and the sealed session tokens that sendBeacon and
EventSource carry in the URL."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import math
import threading
import time
import unicodedata
import uuid
from collections.abc import Callable
from typing import Any

import jwt

from solo import limits
from solo.errors import Forbidden, Unauthorized
from solo.sealing import BadSeal, Sealer
from solo.settings import Settings
from solo.storage import key_segment


@dataclasses.dataclass(frozen=True)
class Caller:
    user: str
    expires_at: int
    """Unix time the credential stops being valid."""


class TokenVerifier:
    """HS256 with the configured secret; RS256 too when a public key is configured.

    A verified token is remembered until it expires, so a client's every request costs
    one dictionary lookup rather than a signature check.
    """

    def __init__(self, settings: Settings) -> None:
        self._keys: dict[str, Any] = {"HS256": settings.jwt_secret}
        if settings.jwt_public_key:
            self._keys["RS256"] = settings.jwt_public_key
        self._verified: collections.OrderedDict[str, Caller] = collections.OrderedDict()
        self._lock = threading.Lock()

    def caller(self, token: str) -> Caller:
        with self._lock:
            known = self._verified.get(token)
        if known is not None and known.expires_at > time.time():
            return known
        caller = self._verify(token)
        with self._lock:
            self._verified[token] = caller
            while len(self._verified) > limits.VERIFIED_TOKENS_KEPT:
                self._verified.popitem(last=False)
        return caller

    def _verify(self, token: str) -> Caller:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            key = self._keys.get(algorithm) if isinstance(algorithm, str) else None
            if key is None or not isinstance(algorithm, str):
                raise Unauthorized("The token's signing algorithm is not accepted.")
            claims = jwt.decode(
                token, key, algorithms=[algorithm], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.") from None
        except jwt.PyJWTError:
            raise Unauthorized("The token is malformed or its signature is invalid.") from None
        expires_at = claims["exp"]
        if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
            raise Unauthorized("The token's expiry is not a time.")
        if not math.isfinite(expires_at) or expires_at <= time.time():
            raise Unauthorized("The token has expired.")
        if not is_user_id(claims["sub"]):
            raise Unauthorized("The token's subject is not a user id.")
        return Caller(claims["sub"], int(expires_at))


def is_user_id(subject: object) -> bool:
    """A `sub` that is safe as a database value and as a storage key segment: text of
    1 to SUBJECT_MAX_BYTES UTF-8 bytes (encoded for a key, too), no control characters."""
    if not isinstance(subject, str) or not subject:
        return False
    try:
        encoded = subject.encode()
    except UnicodeEncodeError:
        return False
    if any(unicodedata.category(ch) == "Cc" for ch in subject):
        return False
    return (
        len(encoded) <= limits.SUBJECT_MAX_BYTES
        and len(key_segment(subject).encode()) <= limits.SUBJECT_MAX_BYTES
    )


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
            raise Unauthorized(f"The {self._purpose} token is malformed or forged.") from None
        if not isinstance(expires_at, int) or expires_at <= now.timestamp():
            raise Unauthorized(f"The {self._purpose} token has expired.")
        if claimed_session != _canonical_uuid(session_id):
            raise Forbidden(f"This {self._purpose} token belongs to another session.")
        return Caller(user, expires_at)


def _canonical_uuid(text: str) -> str | None:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def mint_token(settings: Settings, user_id: str, ttl_seconds: int, now: dt.datetime) -> str:
    claims = {"sub": user_id, "iat": now, "exp": now + dt.timedelta(seconds=ttl_seconds)}
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def bearer_info(token: str, request: Any) -> dict[str, Any]:
    """connexion's x-bearerInfoFunc: the caller as token_info, or Unauthorized."""
    caller = request.context["deps"].token_verifier.caller(token)
    return {"sub": caller.user, "exp": caller.expires_at}


def session_token_info(purpose: str) -> Callable[[str, Any], dict[str, Any]]:
    """connexion's apiKey function for a `?token=` of `purpose` (`x-token-purpose` of its
    security scheme): valid only on its own session's operation of that purpose."""

    def token_info(token: str, request: Any) -> dict[str, Any]:
        deps = request.context["deps"]
        session_id = request.scope.get("path_params", {}).get("session_id", "")
        caller = deps.session_tokens[purpose].caller_for(token, session_id, deps.clock())
        return {"sub": caller.user, "exp": caller.expires_at}

    return token_info
