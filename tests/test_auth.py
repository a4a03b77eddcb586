import base64
import datetime as dt
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from solo.auth import TokenVerifier, mint_token
from solo.errors import Unauthorized
from solo.settings import Settings

SECRET = "тестовий-секрет-0123456789abcdef0123"


def _rsa_pair():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _b64(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_minted_token_names_its_user():
    settings = Settings(jwt_secret=SECRET)
    token = mint_token(settings, "олена", 60, _now())
    assert TokenVerifier(settings).caller(token).user == "олена"


def test_rs256_is_accepted_only_when_a_public_key_is_configured():
    key, public = _rsa_pair()
    token = jwt.encode({"sub": "олена", "exp": _now() + dt.timedelta(minutes=1)}, key, "RS256")
    assert (
        TokenVerifier(Settings(jwt_secret=SECRET, jwt_public_key=public)).caller(token).user
        == "олена"
    )
    with pytest.raises(Unauthorized):
        TokenVerifier(Settings(jwt_secret=SECRET)).caller(token)


def test_the_public_key_cannot_be_used_as_an_hmac_secret():
    _key, public = _rsa_pair()
    claims = {"sub": "зловмисник", "exp": int(_now().timestamp()) + 60}
    segments = [_b64({"alg": "HS256", "typ": "JWT"}), _b64(claims)]
    signing_input = ".".join(segments).encode()
    signature = hmac.new(public.encode(), signing_input, hashlib.sha256).digest()
    forged = signing_input.decode() + "." + base64.urlsafe_b64encode(signature).decode().rstrip("=")
    with pytest.raises(Unauthorized):
        TokenVerifier(Settings(jwt_secret=SECRET, jwt_public_key=public)).caller(forged)
