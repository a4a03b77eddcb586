"""Tokens of an identity provider: keys from its JWKS, rotated without a restart, checked
claims, and a provider that rotates, goes down and hangs (a real HTTP endpoint)."""

import collections
import concurrent.futures
import dataclasses
import threading
import time

import httpx2
import pytest

from solo import limits
from solo.domain import errors as domain
from solo.security import CredentialRefused
from tests.conftest import server_env
from tests.support.bodies import error_body
from tests.support.identity import IdentityProvider
from tests.support.server import LiveServer

# A token is checked before anything reaches the database: one database is enough here.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

REFETCH_SECONDS = 1
"""SOLO_JWT_JWKS_REFETCH_SECONDS here: shorter than the default, which only makes the tests
wait longer."""

UNKNOWN_KEY = CredentialRefused(
    "The token's key is not one the identity provider publishes.", reason="invalid"
)


@pytest.fixture
def provider():
    started = IdentityProvider()
    started.add_key("ключ-1")
    yield started
    started.stop()


@pytest.fixture
def jwks_settings(settings, provider):
    return dataclasses.replace(
        settings, jwt_jwks_url=provider.url, jwt_jwks_refetch_seconds=REFETCH_SECONDS
    )


@pytest.fixture
def client(jwks_settings, make_client):
    return make_client(jwks_settings)[0]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def usage(client, token):
    return client.get("/usage/", headers=bearer(token))


def refused_as(response, error, reason):
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="solo", error="invalid_token"'
    assert response.json() == error_body(response, error, reason=reason)


def test_rs256_and_es256_tokens_signed_by_the_providers_keys_are_accepted(client, provider):
    provider.add_key("еліптичний", "ES256")
    for kid in ("ключ-1", "еліптичний"):
        response = usage(client, provider.token(kid, user=f"користувач {kid}"))
        assert response.status_code == 200
    created = client.post(
        "/sessions/", json={"state": {}}, headers=bearer(provider.token("еліптичний"))
    )
    assert created.status_code == 201
    assert provider.fetches == 1
    # The server's own HS256 tokens still work beside them.
    assert usage(client, client.auth("олена")["Authorization"][7:]).status_code == 200


def test_a_new_key_is_picked_up_without_a_restart_and_a_dropped_one_stops(client, provider):
    assert usage(client, provider.token("ключ-1")).status_code == 200
    provider.add_key("ключ-2")
    provider.drop_key("ключ-1")
    assert usage(client, provider.token("ключ-2")).status_code == 200
    assert provider.fetches == 2
    refused_as(usage(client, provider.token("ключ-1", user="нова")), UNKNOWN_KEY, "invalid")


def test_a_token_naming_a_key_of_another_algorithm_is_refused(client, provider):
    provider.add_key("еліптичний", "ES256")
    assert usage(client, provider.token("еліптичний")).status_code == 200
    forged = provider.token("ключ-1", named="еліптичний")  # RS256, naming the ES256 key
    mismatch = CredentialRefused("The token's algorithm is not its key's.", reason="invalid")
    refused_as(usage(client, forged), mismatch, "invalid")


def test_issuer_and_audience_are_checked_when_set(jwks_settings, make_client, provider):
    checked = dataclasses.replace(
        jwks_settings, jwt_issuer=IdentityProvider.ISSUER, jwt_audience="solo-api"
    )
    client = make_client(checked)[0]
    right = {"iss": IdentityProvider.ISSUER, "aud": "solo-api"}
    assert usage(client, provider.token("ключ-1", **right)).status_code == 200
    for claims in (
        {"aud": "solo-api"},
        {**right, "iss": "https://чужий.example"},
        {"iss": IdentityProvider.ISSUER},
        {**right, "aud": "інший-api"},
    ):
        response = usage(client, provider.token("ключ-1", **claims))
        refused_as(
            response,
            CredentialRefused(
                "The token is malformed or its signature is invalid.", reason="invalid"
            ),
            "invalid",
        )
    minted = client.auth("олена")  # `solo token` adds what the server checks
    assert client.get("/usage/", headers=minted).status_code == 200


def test_an_audience_is_not_checked_when_none_is_set(client, provider):
    assert usage(client, provider.token("ключ-1", aud="будь-яка")).status_code == 200


def test_a_provider_that_is_down_costs_only_tokens_of_keys_not_fetched(
    jwks_settings, make_client, provider
):
    # Long enough that the last call below comes within the interval of the failed fetch.
    client = make_client(dataclasses.replace(jwks_settings, jwt_jwks_refetch_seconds=2))[0]
    assert usage(client, provider.token("ключ-1")).status_code == 200
    provider.add_key("ключ-2")
    provider.down()
    assert usage(client, provider.token("ключ-1", user="інша")).status_code == 200
    for _attempt in range(2):
        response = usage(client, provider.token("ключ-2"))
        assert response.status_code == 503
        assert response.headers["Retry-After"] == str(limits.RETRY_AFTER_SECONDS)
        assert response.json() == error_body(
            response, domain.Unavailable, checks={"identity_provider": "unavailable"}
        )
    provider.up()
    assert usage(client, provider.token("ключ-2")).status_code == 503  # within the interval
    assert provider.fetches == 1


@pytest.fixture
def served(jwks_settings, tmp_path):
    env = {
        **server_env(jwks_settings),
        "SOLO_JWT_JWKS_URL": jwks_settings.jwt_jwks_url,
        "SOLO_JWT_JWKS_REFETCH_SECONDS": str(REFETCH_SECONDS),
    }
    server = LiveServer(env, log_path=tmp_path / "server.log")
    yield server
    server.stop()


def timed_get(url, headers=None):
    started = time.monotonic()
    response = httpx2.get(url, headers=headers, timeout=30)
    return response.status_code, time.monotonic() - started


@pytest.mark.slow(5)
def test_a_hung_provider_costs_only_the_requests_that_need_its_keys(served, provider):
    usage_url = served.api_url + "/usage/"
    cached = provider.token("ключ-1")
    assert timed_get(usage_url, bearer(cached))[0] == 200
    provider.add_key("ключ-2")
    provider.hang()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        waiting = pool.submit(timed_get, usage_url, bearer(provider.token("ключ-2")))
        while provider.fetches < 2:
            time.sleep(0.01)
        bystanders = [
            timed_get(served.api_url + "/healthz"),
            timed_get(usage_url, bearer(cached)),
            timed_get(usage_url, bearer(provider.token("ключ-1", user="ще-одна"))),
        ]
        status, waited = waiting.result()
    assert [status for status, _seconds in bystanders] == [200, 200, 200]
    assert max(seconds for _status, seconds in bystanders) < 1
    assert status == 503
    # It may wait for the refetch interval first (the last fetch was moments ago), then
    # for the fetch's deadline: never longer.
    slowest = REFETCH_SECONDS + limits.JWKS_FETCH_DEADLINE_SECONDS
    assert limits.JWKS_FETCH_DEADLINE_SECONDS - 0.5 < waited < slowest + 2


@pytest.mark.slow(6)
def test_unknown_kids_cost_the_provider_one_fetch_per_interval(served, provider):
    usage_url = served.api_url + "/usage/"
    provider.add_key("невідомий")
    provider.drop_key("невідомий")
    tokens = [provider.token("невідомий", user=f"н{n}") for n in range(20)]
    # The tokens are signed and the clients made before the first fetch, so the burst comes
    # well within its interval (a slow machine took a second over them, and a late request
    # came after the second fetch, which the others shared).
    barrier = threading.Barrier(len(tokens) + 1, timeout=30)

    def call(token):
        with httpx2.Client(timeout=30) as http:
            barrier.wait()
            response = http.get(usage_url, headers=bearer(token))
            return response.status_code, response.json()["reason"]

    with concurrent.futures.ThreadPoolExecutor(len(tokens)) as pool:
        calls = pool.map(call, tokens)
        known = httpx2.get(usage_url, headers=bearer(provider.token("ключ-1")))
        barrier.wait()
        answers = collections.Counter(calls)
    assert known.status_code == 200
    assert answers == {(401, "invalid"): len(tokens)}
    assert provider.fetches == 2
    started = time.monotonic()
    assert timed_get(usage_url, bearer(provider.token("невідомий")))[0] == 401
    assert time.monotonic() - started >= REFETCH_SECONDS - 0.5
    assert provider.fetches == 3


def test_a_rotation_while_tokens_of_both_keys_are_in_flight(served, provider):
    usage_url = served.api_url + "/usage/"
    assert httpx2.get(usage_url, headers=bearer(provider.token("ключ-1"))).status_code == 200
    provider.add_key("ключ-2")
    tokens = [provider.token("ключ-1" if n % 2 else "ключ-2", user=f"к{n}") for n in range(40)]
    barrier = threading.Barrier(len(tokens))

    def call(token):
        with httpx2.Client(timeout=30) as http:
            barrier.wait()
            return http.get(usage_url, headers=bearer(token)).status_code

    with concurrent.futures.ThreadPoolExecutor(len(tokens)) as pool:
        statuses = collections.Counter(pool.map(call, tokens))
    assert statuses == {200: len(tokens)}
    assert provider.fetches == 2
