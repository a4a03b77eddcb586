"""Short HMAC-signed tokens: `base64url(json(claims)) "." base64url(hmac)`.

Each use signs under its own purpose, so a token minted for one (a beacon) is never
accepted for another (a file download).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any


class BadSignature(ValueError):
    """The token is malformed, or was not signed with this key for this purpose."""


class Signer:
    def __init__(self, key: bytes, purpose: str) -> None:
        self._key = key
        self._purpose = purpose.encode() + b":"

    def sign(self, claims: list[Any]) -> str:
        body = _b64(json.dumps(claims, ensure_ascii=False).encode())
        return f"{body}.{_b64(self._mac(body))}"

    def unsign(self, token: str) -> list[Any]:
        body, _, signature = token.partition(".")
        try:
            valid = hmac.compare_digest(_unb64(signature), self._mac(body))
            claims = json.loads(_unb64(body)) if valid else None
        except (ValueError, TypeError, binascii.Error):
            raise BadSignature("malformed token") from None
        if not valid or not isinstance(claims, list):
            raise BadSignature("bad signature")
        return claims

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, self._purpose + body.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
