"""Sealed tokens: `base64url(nonce || AES-256-GCM(json(claims)))`, without padding.

A token travels in URLs (a download link, `beacon_url`, `events_url`) that end up in
browser histories, proxies and logs, so what it carries (a session id, a user id, a
storage key holding the user id) is encrypted, not merely signed: whoever holds a token
learns nothing from it, and one that was altered in any bit does not open.

Each use seals under its own purpose: the key is derived from the signing key and the
purpose (HKDF), and the purpose is the associated data too, so a token sealed for one use
(a beacon) never opens for another (a file download). The nonce is random (96 bits): at
the rates tokens are minted, a repeat is out of reach for the life of any key.

A token is read only in its canonical spelling (the base64url alphabet, no `=`, zero
padding bits): otherwise several texts would open as the same token.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12
_TAG_BYTES = 16
_KEY_BYTES = 32
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class BadSeal(ValueError):
    """The token is malformed, altered, or was not sealed with this key for this purpose."""


class Sealer:
    def __init__(self, key: bytes, purpose: str) -> None:
        self._purpose = purpose.encode()
        derived = HKDF(
            algorithm=hashes.SHA256(),
            length=_KEY_BYTES,
            salt=None,
            info=b"solo-sealed-token:" + self._purpose,
        ).derive(key)
        self._aead = AESGCM(derived)

    def seal(self, claims: list[Any]) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        plain = json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode()
        return _b64(nonce + self._aead.encrypt(nonce, plain, self._purpose))

    def unseal(self, token: str) -> list[Any]:
        raw = _unb64(token)
        if len(raw) < _NONCE_BYTES + _TAG_BYTES:
            raise BadSeal("malformed token")
        try:
            plain = self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self._purpose)
        except InvalidTag:
            raise BadSeal("not sealed with this key for this purpose") from None
        claims = json.loads(plain)
        if not isinstance(claims, list):
            raise BadSeal("malformed claims")
        return claims


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    """The bytes of a canonical base64url text, or BadSeal: re-encoding them must give the
    text back (no `=`, no character outside the alphabet, no stray padding bits)."""
    if not _BASE64URL.fullmatch(text):
        raise BadSeal("malformed token")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise BadSeal("malformed token") from None
    if _b64(raw) != text:
        raise BadSeal("malformed token")
    return raw
