"""A stale diff sent with `If-Match: *` and `Solo-Base-Rev` is rebased over the changes
since, or refused as a conflict with nothing applied."""

import dataclasses

import pytest

from solo.domain import errors as domain
from solo.http import refusals
from tests.support.bodies import error_body
from tests.support.sessions import create_session

STATE = {"назва": "Чернетка", "блоки": [{"текст": "перший"}, {"текст": "другий"}]}
AT = "2026-11-26T09:00:00Z"


@pytest.fixture
def clocked(settings, clock, make_client):
    return make_client(settings, clock)


@pytest.fixture
def client(clocked):
    return clocked[0]


def diff(client, session_id, ops, *, base=None, if_match="*", **headers):
    based = {"Solo-Base-Rev": str(base)} if base is not None else {}
    return client.patch(
        f"/sessions/{session_id}/diff/",
        json={"ops": ops},
        headers={**client.auth("олена"), "If-Match": if_match, **based, **headers},
    )


def state_of(client, session_id):
    return client.get(f"/sessions/{session_id}/", headers=client.auth("олена")).json()["state"]


def test_a_stale_diff_is_rebased_and_answers_the_changes_since_its_base(client):
    session_id = create_session(client, STATE)
    theirs = [{"op": "add", "path": "/блоки/0", "value": {"текст": "новий"}}]
    assert diff(client, session_id, theirs, if_match='"0"').status_code == 200
    mine = [{"op": "replace", "path": "/блоки/1/текст", "value": "мій"}]
    response = diff(client, session_id, mine, base=0)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.json() == {
        "rev": 2,
        "updated_at": AT,
        "rebased_from": 0,
        "changes": [
            {"rev": 1, "at": AT, "ops": theirs},
            {
                "rev": 2,
                "at": AT,
                "ops": [{"op": "replace", "path": "/блоки/2/текст", "value": "мій"}],
            },
        ],
    }
    assert state_of(client, session_id)["блоки"] == [
        {"текст": "новий"},
        {"текст": "перший"},
        {"текст": "мій"},
    ]


def test_a_diff_on_the_current_rev_needs_no_rebase_and_says_none(client):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, [{"op": "replace", "path": "/назва", "value": "Н"}], base=0)
    assert response.json() == {"rev": 1, "updated_at": AT}


def test_the_change_feed_keeps_the_ops_as_they_were_applied(client):
    session_id = create_session(client, STATE)
    diff(client, session_id, [{"op": "remove", "path": "/блоки/0"}], if_match='"0"')
    diff(client, session_id, [{"op": "replace", "path": "/блоки/1/текст", "value": "я"}], base=0)
    feed = client.get(
        f"/sessions/{session_id}/changes/", params={"since": 1}, headers=client.auth("олена")
    )
    assert feed.json()["changes"] == [
        {"rev": 2, "at": AT, "ops": [{"op": "replace", "path": "/блоки/0/текст", "value": "я"}]}
    ]


@pytest.mark.parametrize(
    ("theirs", "mine", "reason", "paths"),
    [
        (
            [{"op": "replace", "path": "/блоки/1/текст", "value": "їхнє"}],
            [{"op": "replace", "path": "/блоки/1/текст", "value": "моє"}],
            "overlap",
            ["/блоки/1/текст"],
        ),
        (
            [{"op": "remove", "path": "/блоки/1"}],
            [{"op": "replace", "path": "/блоки/1/текст", "value": "моє"}],
            "overlap",
            ["/блоки/1", "/блоки/1/текст"],
        ),
        (
            [{"op": "replace", "path": "/назва", "value": "їхня"}],
            [{"op": "test", "path": "/назва", "value": "Чернетка"}],
            "overlap",
            ["/назва"],
        ),
    ],
)
def test_a_diff_that_meets_the_changes_since_is_a_conflict_and_applies_nothing(
    client, theirs, mine, reason, paths
):
    session_id = create_session(client, STATE)
    diff(client, session_id, theirs, if_match='"0"')
    before = state_of(client, session_id)
    response = diff(client, session_id, mine, base=0)
    assert response.status_code == 409
    assert response.headers["ETag"] == '"1"'
    assert response.json() == error_body(
        response, domain.RebaseConflict(reason, paths), rev=1, reason=reason, paths=paths
    )
    assert state_of(client, session_id) == before


def test_a_whole_state_since_the_base_is_a_conflict(client):
    session_id = create_session(client, STATE)
    client.post(
        f"/sessions/{session_id}/save-stream/",
        json={"зовсім": "інше"},
        headers={**client.auth("олена"), "If-Match": '"0"'},
    )
    response = diff(client, session_id, [{"op": "add", "path": "/я", "value": 1}], base=0)
    assert response.status_code == 409
    assert response.json()["reason"] == "whole_state"


def test_a_base_older_than_the_kept_log_is_410(settings, clock, make_client):
    client, _ = make_client(dataclasses.replace(settings, changes_kept=1), clock)
    session_id = create_session(client, STATE)
    for rev in range(3):
        client.post(
            f"/sessions/{session_id}/save-stream/",
            json={"крок": rev},
            headers={**client.auth("олена"), "If-Match": f'"{rev}"'},
        )
    response = diff(client, session_id, [{"op": "add", "path": "/я", "value": 1}], base=0)
    assert response.status_code == 410
    assert response.json() == error_body(response, domain.ChangesCompacted, oldest_rev=2)


def test_a_base_rev_without_if_match_any_is_400(client):
    session_id = create_session(client, STATE)
    ops = [{"op": "add", "path": "/я", "value": 1}]
    response = diff(client, session_id, ops, base=0, if_match='"0"')
    assert response.status_code == 400
    assert response.json() == error_body(
        response,
        refusals.InvalidRequest("Solo-Base-Rev goes with If-Match: *"),
        field="Solo-Base-Rev",
    )
    assert state_of(client, session_id) == STATE


def test_a_base_rev_past_the_session_is_ahead_of_a_restored_server(client):
    """A client that saw rev 5 of a session the server (restored from an older backup)
    has at rev 0: 409 with the current rev and ETag, and nothing applied."""
    session_id = create_session(client, STATE)
    response = diff(client, session_id, [{"op": "add", "path": "/я", "value": 1}], base=5)
    assert response.status_code == 409
    assert response.headers["ETag"] == '"0"'
    assert response.json() == error_body(response, domain.AheadOfServer, rev=0)
    assert state_of(client, session_id) == STATE
