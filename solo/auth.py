"""Bearer JWTs: verifying the callers' tokens and minting local ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jwt

from solo.errors import Unauthorized
from solo.settings import Settings

_MAX_SUBJECT_LENGTH = 255


class TokenVerifier:
    """HS256 with the configured secret; RS256 too when a public key is configured."""

    def __init__(self, settings: Settings) -> None:
        self._keys: dict[str, Any] = {"HS256": settings.jwt_secret}
        if settings.jwt_public_key:
            self._keys["RS256"] = settings.jwt_public_key

    def user_of(self, token: str) -> str:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            key = self._keys.get(algorithm)
            if key is None:
                raise Unauthorized("The token's signing algorithm is not accepted.")
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                options={"require": ["exp", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The token has expired.") from None
        except jwt.PyJWTError:
            raise Unauthorized("The token is malformed or its signature is invalid.") from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= _MAX_SUBJECT_LENGTH:
            raise Unauthorized("The token's subject is not a user id.")
        return subject


def mint_token(settings: Settings, user_id: str, ttl_seconds: int, now: dt.datetime) -> str:
    claims = {"sub": user_id, "iat": now, "exp": now + dt.timedelta(seconds=ttl_seconds)}
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


def bearer_info(token: str, request) -> dict[str, str]:
    """connexion's x-bearerInfoFunc: the token's user as `sub`, or Unauthorized."""
    verifier: TokenVerifier = request.context["deps"].token_verifier
    return {"sub": verifier.user_of(token)}
