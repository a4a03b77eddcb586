"""Rate limits in process: the boundary, every header, isolation per user and per group."""

import dataclasses
import time

import pytest

from solo.http import refusals
from tests.support.bodies import error_body

RATE_HEADERS = [
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
]


@pytest.fixture
def limited(settings, make_client):
    configured = dataclasses.replace(
        settings, rate_limit_write="3/hour", rate_limit_read="5/hour", rate_limit_beacon="2/hour"
    )
    return make_client(configured)[0]


def create(client, user="олена"):
    response = client.post("/sessions/", json={"state": {"а": 1}}, headers=client.auth(user))
    assert response.status_code == 201
    return response


def diff(client, session_id, user="олена", body=None):
    return client.patch(
        f"/sessions/{session_id}/diff/",
        json=body if body is not None else {"ops": []},
        headers={**client.auth(user), "If-Match": "*"},
    )


def test_the_nth_request_passes_and_the_next_is_429_with_every_header(limited):
    first = create(limited)
    session_id = first.json()["id"]
    before = int(time.time())
    responses = [first, diff(limited, session_id), diff(limited, session_id)]
    assert [r.status_code for r in responses] == [201, 200, 200]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0"]
    for response in responses:
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["RateLimit-Policy"] == '"write";q=3;w=3600'
        assert before + 3590 <= int(response.headers["X-RateLimit-Reset"]) <= before + 3602
    assert responses[2].headers["RateLimit"].startswith('"write";r=0;t=')

    refused = diff(limited, session_id)
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 3590 <= retry_after <= 3600
    assert refused.json() == error_body(
        refused, refusals.RateLimited, limit=3, window=3600, retry_after=retry_after
    )
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert refused.headers["RateLimit"] == f'"write";r=0;t={retry_after}'


def test_a_429_comes_before_the_body_is_read_and_does_nothing(limited):
    session_id = create(limited).json()["id"]
    diff(limited, session_id)
    diff(limited, session_id)
    broken = limited.patch(
        f"/sessions/{session_id}/diff/",
        content=b"{not json",
        headers={**limited.auth("олена"), "If-Match": "*", "Content-Type": "application/json"},
    )
    assert broken.status_code == 429
    session = limited.get(f"/sessions/{session_id}/", headers=limited.auth("олена")).json()
    assert (session["rev"], session["state"]) == (0, {"а": 1})


def test_each_user_has_a_budget_of_their_own(limited):
    session_id = create(limited).json()["id"]
    diff(limited, session_id)
    diff(limited, session_id)
    assert diff(limited, session_id).status_code == 429
    assert create(limited, user="тарас").headers["X-RateLimit-Remaining"] == "2"


def test_each_group_has_a_budget_of_its_own(limited):
    session_id = create(limited).json()["id"]
    diff(limited, session_id)
    diff(limited, session_id)
    assert diff(limited, session_id).status_code == 429
    read = limited.get(f"/sessions/{session_id}/", headers=limited.auth("олена"))
    assert read.status_code == 200
    assert read.headers["RateLimit-Policy"] == '"read";q=5;w=3600'
    beacon = limited.post(
        f"/sessions/{session_id}/beacon/",
        content=b"{}",
        headers={**limited.auth("олена"), "Content-Type": "text/plain"},
    )
    assert beacon.status_code == 204
    assert beacon.headers["RateLimit-Policy"] == '"beacon";q=2;w=3600'
    assert beacon.headers["X-RateLimit-Remaining"] == "1"


def test_every_successful_answer_carries_the_rate_headers(limited):
    created = create(limited)
    session_id = created.json()["id"]
    auth = limited.auth("олена")
    answers = [
        created,
        limited.get("/sessions/", headers=auth),
        limited.get(f"/sessions/{session_id}/", headers=auth),
        limited.get(f"/sessions/{session_id}/", headers={**auth, "If-None-Match": '"0"'}),
        limited.delete(f"/sessions/{session_id}/", headers={**auth, "If-Match": '"0"'}),
    ]
    assert [a.status_code for a in answers] == [201, 200, 200, 304, 204]
    for answer in answers:
        assert all(name in answer.headers for name in RATE_HEADERS), answer.headers


def test_health_is_never_limited(limited):
    for _ in range(10):
        response = limited.get("/healthz")
        assert response.status_code == 200
        assert "X-RateLimit-Limit" not in response.headers
