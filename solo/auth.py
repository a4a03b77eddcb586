"""Who is calling: bearer JWTs, and the signed beacon tokens that sendBeacon carries."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import jwt

from solo.errors import Forbidden, Unauthorized
from solo.settings import Settings
from solo.signing import BadSignature, Signer

_MAX_SUBJECT_LENGTH = 255


@dataclasses.dataclass(frozen=True)
class Caller:
    user: str
    expires_at: int
    """Unix time the credential stops being valid."""


class TokenVerifier:
    """HS256 with the configured secret; RS256 too when a public key is configured."""

    def __init__(self, settings: Settings) -> None:
        self._keys: dict[str, Any] = {"HS256": settings.jwt_secret}
        if settings.jwt_public_key:
            self._keys["RS256"] = settings.jwt_public_key

    def caller(self, token: str) -> Caller:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            key = self._keys.get(algorithm)
            if key is None:
                raise Unauthorized("The token's signing algorithm is not accepted.")
            claims = jwt.decode(
                token, key, algorithms=[algorithm], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.") from None
        except jwt.PyJWTError:
            raise Unauthorized("The token is malformed or its signature is invalid.") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= _MAX_SUBJECT_LENGTH:
            raise Unauthorized("The token's subject is not a user id.")
        return Caller(subject, int(claims["exp"]))


class BeaconTokens:
    """Tokens that open one session's beacon, for as long as the caller's bearer token."""

    def __init__(self, signing_key: bytes) -> None:
        self._signer = Signer(signing_key, "beacon")

    def mint(self, session_id: uuid.UUID, caller: Caller) -> str:
        return self._signer.sign([str(session_id), caller.user, caller.expires_at])

    def caller_for(self, token: str, session_id: str, now: dt.datetime) -> Caller:
        try:
            claimed_session, user, expires_at = self._signer.unsign(token)
        except (BadSignature, ValueError):
            raise Unauthorized("The beacon token is malformed or forged.") from None
        if not isinstance(expires_at, int) or expires_at <= now.timestamp():
            raise Unauthorized("The beacon token has expired.")
        if claimed_session != session_id:
            raise Forbidden("This beacon token belongs to another session.")
        return Caller(user, expires_at)


def mint_token(settings: Settings, user_id: str, ttl_seconds: int, now: dt.datetime) -> str:
    claims = {"sub": user_id, "iat": now, "exp": now + dt.timedelta(seconds=ttl_seconds)}
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def bearer_info(token: str, request) -> dict[str, Any]:
    """connexion's x-bearerInfoFunc: the caller as token_info, or Unauthorized."""
    caller = request.context["deps"].token_verifier.caller(token)
    return {"sub": caller.user, "exp": caller.expires_at}


def beacon_token_info(token: str, request) -> dict[str, Any]:
    """connexion's x-apikeyInfoFunc for `?token=`: valid only on its own session's beacon."""
    deps = request.context["deps"]
    session_id = request.scope.get("path_params", {}).get("session_id", "")
    caller = deps.beacon_tokens.caller_for(token, session_id, deps.clock())
    return {"sub": caller.user, "exp": caller.expires_at}
