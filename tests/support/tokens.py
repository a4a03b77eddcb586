"""What a URL token gives away: every way of reading its text as bytes."""

from __future__ import annotations

import base64
import binascii
import uuid


def decodings(token: str) -> list[bytes]:
    """The token's text, and its base64 (URL-safe and standard) read from each of the four
    alignments, cut at any `.`: wherever an id could sit in plain sight."""
    found = [token.encode()]
    for part in [token, *token.split(".")]:
        for start in range(4):
            piece = part[start:]
            piece = piece[: len(piece) - len(piece) % 4]
            for decode in (base64.urlsafe_b64decode, base64.b64decode):
                try:
                    found.append(decode(piece))
                except (binascii.Error, ValueError):
                    continue
    return found


def user_forms(user: str) -> list[bytes]:
    """The byte forms a user id can take in a token."""
    return [user.encode(), user.encode("utf-16-le"), user.encode("utf-16-be")]


def session_forms(session_id: uuid.UUID) -> list[bytes]:
    """The byte forms a session id can take in a token."""
    text = str(session_id)
    return [text.encode(), text.upper().encode(), session_id.bytes, session_id.hex.encode()]


def shows_any(token: str, forms: list[bytes]) -> bool:
    return any(form in decoded for decoded in decodings(token) for form in forms)


_BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def other_spellings(token: str) -> list[str]:
    """Texts that a lenient base64url decoder reads as the same bytes as `token`: with `=`
    padding, with a padding bit of the last character set, in the standard alphabet."""
    spellings = [token + "=", token + "=="]
    if len(token) % 4:
        last = _BASE64URL.index(token[-1])
        spellings.append(token[:-1] + _BASE64URL[last ^ 1])
    standard = token.replace("-", "+").replace("_", "/")
    if standard != token:
        spellings.append(standard)
    return spellings
