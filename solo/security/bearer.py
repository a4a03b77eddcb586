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
from solo.security.jwks import ALGORITHMS, JwksKeys, KeyNotFetched
from solo.settings import Settings


@dataclasses.dataclass(frozen=True)
class Caller:
    user: str
    expires_at: int
    """Unix time the credential stops being valid."""


class TokenVerifier:
    """HS256 with the configured secret; RS256 too when a public key is configured; RS256
    and ES256 signed by the key of an identity provider's JWKS that the token's `kid`
    names, when a JWKS URL is configured. `iss` and `aud` are checked when configured.

    A verified token is remembered until it expires, so a client's every request costs
    one dictionary lookup rather than a signature check.
    """

    def __init__(self, settings: Settings) -> None:
        self._keys: dict[str, Any] = {"HS256": settings.jwt_secret}
        if settings.jwt_public_key:
            self._keys["RS256"] = settings.jwt_public_key
        self._jwks = (
            JwksKeys(settings.jwt_jwks_url, refetch_seconds=settings.jwt_jwks_refetch_seconds)
            if settings.jwt_jwks_url
            else None
        )
        self._issuer, self._audience = settings.jwt_issuer, settings.jwt_audience
        self._verified: collections.OrderedDict[str, Caller] = collections.OrderedDict()
        self._lock = threading.Lock()

    async def verified(self, token: str) -> Caller:
        """The caller, fetching the identity provider's keys again first when the token
        names one not fetched yet (ProviderUnavailable if the provider does not answer)."""
        try:
            return self.caller(token)
        except KeyNotFetched as missing:
            assert self._jwks is not None
            await self._jwks.fetch_for(missing.kid)
        try:
            return self.caller(token)
        except KeyNotFetched:
            raise CredentialRefused(
                "The token's key is not one the identity provider publishes.", reason="invalid"
            ) from None

    def close(self) -> None:
        if self._jwks is not None:
            self._jwks.close()

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
        """The caller a token names; KeyNotFetched when it names a JWKS key not fetched."""
        try:
            header = jwt.get_unverified_header(token)
            algorithm = header.get("alg")
            if not isinstance(algorithm, str):
                raise CredentialRefused(
                    "The token's signing algorithm is not accepted.", reason="invalid"
                )
            claims = jwt.decode(
                token,
                self._key(algorithm, header.get("kid")),
                algorithms=[algorithm],
                issuer=self._issuer,
                audience=self._audience,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
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

    def _key(self, algorithm: str, kid: object) -> Any:
        """The key that verifies a token signed with `algorithm`: the JWKS key its `kid`
        names (RS256, ES256), else the configured key for that algorithm."""
        if self._jwks is not None and algorithm in ALGORITHMS and isinstance(kid, str):
            published = self._jwks.key(kid)
            if published.algorithm_name != algorithm:
                raise CredentialRefused("The token's algorithm is not its key's.", reason="invalid")
            return published.key
        configured = self._keys.get(algorithm)
        if configured is None:
            raise CredentialRefused(
                "The token's signing algorithm is not accepted.", reason="invalid"
            )
        return configured


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
    """An HS256 token for the user, with the `iss` and `aud` the server checks, if any."""
    claims: dict[str, Any] = {
        "sub": user_id,
        "iat": now,
        "exp": now + dt.timedelta(seconds=ttl_seconds),
    }
    if settings.jwt_issuer is not None:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience is not None:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")
