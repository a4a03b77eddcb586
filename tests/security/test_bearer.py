import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from solo import limits
from solo.security import CredentialRefused
from solo.security.bearer import TokenVerifier, mint_token
from solo.settings import Settings
from tests.support.bodies import error_body

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
    with pytest.raises(CredentialRefused):
        TokenVerifier(Settings(jwt_secret=SECRET)).caller(token)


def test_the_public_key_cannot_be_used_as_an_hmac_secret():
    _key, public = _rsa_pair()
    claims = {"sub": "зловмисник", "exp": int(_now().timestamp()) + 60}
    segments = [_b64({"alg": "HS256", "typ": "JWT"}), _b64(claims)]
    signing_input = ".".join(segments).encode()
    signature = hmac.new(public.encode(), signing_input, hashlib.sha256).digest()
    forged = signing_input.decode() + "." + base64.urlsafe_b64encode(signature).decode().rstrip("=")
    with pytest.raises(CredentialRefused):
        TokenVerifier(Settings(jwt_secret=SECRET, jwt_public_key=public)).caller(forged)


def _token(header: dict, claims: dict, secret: str) -> str:
    signing_input = f"{_b64(header)}.{_b64(claims)}".encode()
    signature = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return signing_input.decode() + "." + base64.urlsafe_b64encode(signature).decode().rstrip("=")


@pytest.mark.parametrize("alg", [["HS256"], {"HS256": True}, None, 256])
def test_a_header_alg_that_is_not_a_name_is_401_and_costs_no_budget(settings, make_client, alg):
    limited = dataclasses.replace(settings, rate_limit_read="1/hour")
    client, _ = make_client(limited)
    claims = {"sub": "олена", "exp": int(_now().timestamp()) + 60}
    forged = {"Authorization": "Bearer " + _token({"alg": alg}, claims, settings.jwt_secret)}
    for _ in range(3):
        response = client.get("/sessions/", headers=forged)
        assert response.status_code == 401
        assert response.json() == error_body(
            response,
            CredentialRefused("The token's signing algorithm is not accepted.", reason="invalid"),
            reason="invalid",
        )
    assert client.get("/sessions/", headers=client.auth("олена")).status_code == 200


MALFORMED = "The token is malformed or its signature is invalid."


@pytest.mark.parametrize(
    ("exp", "message", "reason"),
    [
        ("завтра", MALFORMED, "invalid"),
        # PyJWT reads a boolean expiry as 1: long past.
        (True, "The token has expired.", "expired"),
        ([1], MALFORMED, "invalid"),
        ({"у": 1}, MALFORMED, "invalid"),
        (None, MALFORMED, "invalid"),
    ],
)
def test_an_expiry_that_is_not_a_number_is_401(client, settings, exp, message, reason):
    claims = {"sub": "олена", "exp": exp}
    token = _token({"alg": "HS256", "typ": "JWT"}, claims, settings.jwt_secret)
    response = client.get("/sessions/", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json() == error_body(
        response, CredentialRefused(message, reason=reason), reason=reason
    )


HOSTILE_SUBJECTS = {
    "nul": "оле\x00на",
    "control": "олена\x1b[31m",
    "lone-surrogate": "олена\ud800",
    "empty": "",
    "too-many-bytes": "ї" * 128,
    "too-long-as-a-key": "/" * 100,
}


@pytest.mark.parametrize("subject", list(HOSTILE_SUBJECTS.values()), ids=list(HOSTILE_SUBJECTS))
@pytest.mark.parametrize(("method", "path"), [("GET", "/sessions/"), ("POST", "/sessions/")])
def test_a_subject_unsafe_as_a_database_value_or_a_key_is_401(
    client, settings, subject, method, path
):
    claims = {"sub": subject, "exp": int(_now().timestamp()) + 60}
    token = _token({"alg": "HS256", "typ": "JWT"}, claims, settings.jwt_secret)
    response = client.request(
        method, path, json={"state": {}}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert response.json() == error_body(
        response,
        CredentialRefused("The token's subject is not a user id.", reason="invalid"),
        reason="invalid",
    )


def test_the_longest_subject_allowed_works_everywhere(client):
    subject = "ї" * (limits.SUBJECT_MAX_BYTES // 2)
    headers = client.auth(subject)
    created = client.post("/sessions/", json={"state": {"а": 1}}, headers=headers)
    assert created.status_code == 201
    snapshot = client.post(f"/sessions/{created.json()['id']}/snapshot/", headers=headers)
    assert snapshot.status_code == 201
    assert [s["id"] for s in client.get("/sessions/", headers=headers).json()["items"]] == [
        created.json()["id"]
    ]
