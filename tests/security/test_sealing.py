"""Sealed tokens: opaque to whoever holds them, and refused if any character is changed,
cut, added or spelled another way."""

import base64
import string
import uuid

import pytest

from solo.security.bearer import Caller
from solo.security.sealing import BadSeal, Sealer
from solo.security.session_tokens import SessionTokens
from tests.support.tokens import session_forms, shows_any, user_forms

KEY = "ключ-запечатування".encode()
SESSION = uuid.UUID("5b0d7a4e-2f6b-4c7e-9a11-3f2d9c8e7a10")
USER = "олена.коваленко@приклад.укр"
CLAIMS = [str(SESSION), USER, 1794044800]
ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
"""base64url's alphabet, in the order of the values its characters stand for."""


def padded_token(sealer: Sealer) -> str:
    """A token whose last character carries 4 padding bits (its byte count is 1 mod 3), and
    which holds a `-` or `_` (characters the standard base64 alphabet spells otherwise)."""
    for attempt in range(300):
        token = sealer.seal([*CLAIMS, "х" * (attempt % 3)])
        if len(token) % 4 == 2 and {"-", "_"} & set(token):
            return token
    raise AssertionError("no token with padding bits and a - or _")


def test_claims_come_back_as_sealed():
    sealer = Sealer(KEY, "beacon")
    assert sealer.unseal(sealer.seal(CLAIMS)) == CLAIMS


def test_each_seal_is_fresh_and_opens():
    sealer = Sealer(KEY, "beacon")
    first, second = sealer.seal(CLAIMS), sealer.seal(CLAIMS)
    assert first != second
    assert sealer.unseal(first) == sealer.unseal(second) == CLAIMS


@pytest.mark.parametrize("purpose", ["beacon", "events"])
def test_a_session_token_shows_neither_the_user_nor_the_session(purpose):
    token = SessionTokens(KEY, purpose).mint(SESSION, Caller(USER, 1794044800))
    assert not shows_any(token, user_forms(USER) + session_forms(SESSION))
    assert set(token) <= set(ALPHABET)


def test_a_token_of_another_purpose_or_key_does_not_open():
    token = Sealer(KEY, "beacon").seal(CLAIMS)
    for sealer in (Sealer(KEY, "events"), Sealer(KEY, "file"), Sealer(b"other key", "beacon")):
        with pytest.raises(BadSeal):
            sealer.unseal(token)


def test_changing_any_character_is_refused():
    sealer = Sealer(KEY, "beacon")
    token = padded_token(sealer)
    refused = 0
    for index, original in enumerate(token):
        for replacement in ALPHABET.replace(original, ""):
            with pytest.raises(BadSeal):
                sealer.unseal(token[:index] + replacement + token[index + 1 :])
            refused += 1
    assert refused == len(token) * (len(ALPHABET) - 1)


def test_flipping_any_bit_is_refused():
    sealer = Sealer(KEY, "beacon")
    token = sealer.seal(CLAIMS)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for index in range(len(raw)):
        for bit in range(8):
            flipped = bytearray(raw)
            flipped[index] ^= 1 << bit
            with pytest.raises(BadSeal):
                sealer.unseal(base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip("="))


def test_a_cut_or_lengthened_token_is_refused():
    sealer = Sealer(KEY, "beacon")
    token = sealer.seal(CLAIMS)
    for length in range(len(token)):
        with pytest.raises(BadSeal):
            sealer.unseal(token[:length])
    for extra in ("A", "AA", "AAAA"):
        with pytest.raises(BadSeal):
            sealer.unseal(token + extra)


def test_only_the_canonical_spelling_opens():
    sealer = Sealer(KEY, "beacon")
    token = padded_token(sealer)
    last = ALPHABET.index(token[-1])
    same_bytes = ALPHABET[last ^ 0b0001]  # the same 2 data bits, another padding bit
    standard = base64.b64encode(base64.urlsafe_b64decode(token + "==")).decode().rstrip("=")
    spellings = [
        token + "==",
        token + "=",
        f" {token}",
        f"{token}\n",
        token[:-1] + same_bytes,
        "=" + token,
        token[:10] + "." + token[10:],
        token[:-1] + "Ａ",
        standard,
    ]
    for spelling in spellings:
        with pytest.raises(BadSeal):
            sealer.unseal(spelling)
    assert sealer.unseal(token)[:3] == CLAIMS


def test_garbage_is_refused():
    sealer = Sealer(KEY, "file")
    for garbage in ("", "сміття", "A" * 40, "A" * 41, "-" * 64, "WyJzb2xvIl0.c2lnbmF0dXJl"):
        with pytest.raises(BadSeal):
            sealer.unseal(garbage)
