"""Bearer JWTs: verified once, then remembered until they expire."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import math
import threading
import time
import unicodedata
from typing import Any

import jwt

from solo import limits
from solo.domain.keys import key_segment
from solo.security import CredentialRefused
from solo.settings import Settings


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
                raise CredentialRefused(
                    "The token's signing algorithm is not accepted.", reason="invalid"
                )
            claims = jwt.decode(
                token, key, algorithms=[algorithm], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError:
            raise CredentialRefused("The token has expired.", reason="expired") from None
        except jwt.PyJWTError:
            raise CredentialRefused(
                "The token is malformed or its signature is invalid.", reason="invalid"
            ) from None
        expires_at = claims["exp"]
        if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
            raise CredentialRefused("The token's expiry is not a time.", reason="invalid")
        if not math.isfinite(expires_at) or expires_at <= time.time():
            raise CredentialRefused("The token has expired.", reason="expired")
        if not is_user_id(claims["sub"]):
            raise CredentialRefused("The token's subject is not a user id.", reason="invalid")
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


def mint_token(settings: Settings, user_id: str, ttl_seconds: int, now: dt.datetime) -> str:
    claims = {"sub": user_id, "iat": now, "exp": now + dt.timedelta(seconds=ttl_seconds)}
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
