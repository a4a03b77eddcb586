"""Contract tests: diff and save-stream, with optimistic locking in RFC 9110's order."""

import datetime as dt
import json

import pytest

from solo import limits
from solo.domain import errors as domain
from solo.http import refusals
from tests.support.bodies import error_body, precondition_body
from tests.support.sessions import create_session

STATE = {"назва": "Чернетка", "теги": ["а", "б"], "вкладено": {"рівень": 1}}


@pytest.fixture
def client(settings, clock, make_client):
    return make_client(settings, clock)[0]


def read(client, session_id, user="олена") -> dict:
    response = client.get(f"/sessions/{session_id}/", headers=client.auth(user))
    assert response.status_code == 200
    return response.json()


def diff(client, session_id, ops, user="олена", **headers):
    return client.patch(
        f"/sessions/{session_id}/diff/",
        json={"ops": ops},
        headers={**client.auth(user), **headers},
    )


def save(client, session_id, state, user="олена", **headers):
    return client.post(
        f"/sessions/{session_id}/save-stream/",
        content=json.dumps(state, ensure_ascii=False).encode(),
        headers={**client.auth(user), "Content-Type": "application/json", **headers},
    )


ADD_TITLE = [{"op": "replace", "path": "/назва", "value": "Остаточна"}]


def test_diff_applies_and_answers_the_new_rev_and_etag(client, clock):
    session_id, created_at = create_session(client, STATE), clock.stamp
    clock.now += dt.timedelta(seconds=5)
    response = diff(client, session_id, ADD_TITLE, **{"If-Match": '"0"'})
    assert response.status_code == 200
    assert response.json() == {"rev": 1, "updated_at": clock.stamp}
    assert response.headers["ETag"] == '"1"'
    assert "Deprecation" not in response.headers
    session = read(client, session_id)
    assert session["state"] == {**STATE, "назва": "Остаточна"}
    assert (session["created_at"], session["updated_at"]) == (created_at, clock.stamp)


def test_diff_takes_a_bare_rfc6902_array_as_json_patch(client):
    session_id = create_session(client, STATE)
    response = client.patch(
        f"/sessions/{session_id}/diff/",
        content=json.dumps([{"op": "add", "path": "/теги/-", "value": "в"}]).encode(),
        headers={
            **client.auth("олена"),
            "If-Match": '"0"',
            "Content-Type": "application/json-patch+json",
        },
    )
    assert response.status_code == 200
    assert read(client, session_id)["state"]["теги"] == ["а", "б", "в"]


@pytest.mark.parametrize("if_match", ['"0"', '"9", "0"', '"9","0"', "*", ' "0" '])
def test_if_match_forms_that_match(client, if_match):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, ADD_TITLE, **{"If-Match": if_match})
    assert response.status_code == 200
    assert response.json()["rev"] == 1


@pytest.mark.parametrize(
    ("if_match", "reason"),
    [
        ('"7"', "mismatch"),
        ('W/"0"', "mismatch"),
        ('"abc"', "mismatch"),
        ("0", "unparsable"),
        ('"0', "unparsable"),
        ('"0" "1"', "unparsable"),
        ("", "unparsable"),
    ],
)
def test_if_match_that_fails_is_412_with_the_current_etag(client, if_match, reason):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, ADD_TITLE, **{"If-Match": if_match})
    assert response.status_code == 412
    assert response.json() == precondition_body(response, reason)
    assert response.headers["ETag"] == '"0"'
    assert read(client, session_id)["rev"] == 0


def test_no_precondition_at_all_is_412_missing(client):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, ADD_TITLE)
    assert response.status_code == 412
    assert response.json() == precondition_body(response, "missing")


def test_legacy_x_rev_that_matches_writes_and_says_deprecated(client):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, ADD_TITLE, **{"X-Rev": "0"})
    assert response.status_code == 200
    assert response.headers["Deprecation"] == "true"
    assert response.headers["ETag"] == '"1"'


def test_legacy_x_rev_mismatch_is_409_with_the_server_rev(client):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, ADD_TITLE, **{"X-Rev": "5"})
    assert response.status_code == 409
    assert response.json() == error_body(response, domain.RevMismatch, server_rev=0)


@pytest.mark.parametrize("x_rev", ["п'ять", "-1", "1.0", ""])
def test_legacy_x_rev_that_is_not_an_integer_is_412_unparsable(client, x_rev):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, ADD_TITLE, **{"X-Rev": x_rev.encode()})
    assert response.status_code == 412
    assert response.json() == precondition_body(response, "unparsable")


def test_if_match_wins_over_x_rev(client):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, ADD_TITLE, **{"If-Match": '"0"', "X-Rev": "9"})
    assert response.status_code == 200
    assert "Deprecation" not in response.headers


def test_a_strangers_session_is_404_before_any_precondition(client):
    session_id = create_session(client, STATE, user="олена")
    response = diff(client, session_id, [{"op": "зламати"}], user="тарас")
    assert response.status_code == 404
    assert response.json() == error_body(response, domain.NotFound)


def test_the_precondition_is_checked_before_the_ops(client):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, [{"op": "зламати", "path": "/x"}])
    assert response.status_code == 412
    assert response.json() == precondition_body(response, "missing")


@pytest.mark.parametrize(
    ("ops", "op_index", "reason"),
    [
        ([{"op": "зламати", "path": "/x"}], 0, 'unknown operation "зламати"'),
        ([ADD_TITLE[0], {"op": "add", "value": 1}], 1, "the 'add' operation needs a 'path' string"),
        ([ADD_TITLE[0], "не-об'єкт"], 1, "an operation must be an object"),
        ([{"op": "add", "path": 5, "value": 1}], 0, "the 'add' operation needs a 'path' string"),
        (
            [{"op": "add", "path": "/x", "value": 1, "from": ["/y"]}],
            0,
            "'from' must be a JSON Pointer string",
        ),
        (
            [{"op": "add", "path": "/x"}],
            0,
            "the 'add' operation needs a 'value' member",
        ),
        ([{"op": "move", "path": "/x"}], 0, "the 'move' operation needs a 'from' string"),
        (
            [{"op": "add", "path": "без-слеша", "value": 1}],
            0,
            "the pointer 'без-слеша' must be empty or start with '/'",
        ),
        ([{"op": "remove", "path": "/немає"}], 0, "'/немає' does not exist"),
        (
            [ADD_TITLE[0], {"op": "test", "path": "/назва", "value": "інша"}],
            1,
            "test failed: the value at '/назва' is not the tested value",
        ),
        (
            [{"op": "move", "from": "/вкладено", "path": "/вкладено/глибше"}],
            0,
            "a value cannot be moved into one of its own children",
        ),
        (
            [{"op": "replace", "path": "", "value": [1, 2]}],
            0,
            "the state must remain a JSON object",
        ),
    ],
    ids=[
        "unknown-op",
        "no-path",
        "not-an-object",
        "path-not-a-string",
        "from-not-a-string",
        "no-value",
        "no-from",
        "bad-pointer",
        "missing-target",
        "failed-test",
        "own-child",
        "root-not-object",
    ],
)
def test_bad_ops_are_422_and_change_nothing(client, ops, op_index, reason):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, ops, **{"If-Match": '"0"'})
    assert response.status_code == 422
    assert response.json() == error_body(
        response, domain.InvalidOps, op_index=op_index, reason=reason
    )
    session = read(client, session_id)
    assert (session["rev"], session["state"]) == (0, STATE)


def test_an_empty_patch_is_a_no_op_answering_the_unchanged_rev(client):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, [], **{"If-Match": '"0"'})
    assert response.status_code == 200
    assert response.json()["rev"] == 0
    assert response.headers["ETag"] == '"0"'


def test_a_diff_that_would_outgrow_the_state_limit_is_refused(client):
    session_id = create_session(client, STATE)
    big = "я" * ((limits.STATE_SIZE_LIMIT - 1024) // 2)
    assert save(client, session_id, {"текст": big}, **{"If-Match": '"0"'}).status_code == 200
    response = diff(
        client,
        session_id,
        [{"op": "add", "path": "/ще", "value": "ю" * 1024}],
        **{"If-Match": '"1"'},
    )
    assert response.status_code == 422
    assert response.json() == error_body(
        response, domain.StateTooLarge, limit=limits.STATE_SIZE_LIMIT
    )
    assert read(client, session_id)["rev"] == 1


@pytest.mark.parametrize("body", [{"ops": "не список"}, {}, {"ops": [], "x": 1}, None])
def test_diff_bodies_outside_the_schema_are_invalid_request(client, body):
    session_id = create_session(client, STATE)
    response = client.patch(
        f"/sessions/{session_id}/diff/",
        content=json.dumps(body).encode(),
        headers={**client.auth("олена"), "If-Match": '"0"', "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 412), ({"If-Match": '"5"'}, 412), ({"X-Rev": "5"}, 409)],
    ids=["missing", "mismatch", "legacy"],
)
def test_bad_ops_are_checked_after_the_precondition(client, headers, status):
    session_id = create_session(client, STATE)
    response = diff(client, session_id, [{"op": "зламати", "path": 5}], **headers)
    assert response.status_code == status


def test_bad_ops_on_a_strangers_session_are_404(client):
    session_id = create_session(client, STATE)
    response = client.patch(
        f"/sessions/{session_id}/diff/",
        json={"ops": [{"op": "зламати"}]},
        headers={**client.auth("тарас"), "If-Match": '"0"'},
    )
    assert response.status_code == 404
    assert response.json() == error_body(response, domain.NotFound)


@pytest.mark.parametrize(
    ("suffix", "content_type", "body", "expected"),
    [
        ("diff/", "Application/JSON", {"ops": ADD_TITLE}, {**STATE, "назва": "Остаточна"}),
        (
            "diff/",
            "APPLICATION/JSON-PATCH+JSON; charset=UTF-8",
            [{"op": "add", "path": "/теги/-", "value": "в"}],
            {**STATE, "теги": ["а", "б", "в"]},
        ),
        ("save-stream/", "application/JSON;charset=utf-8", {"ціле": "нове"}, {"ціле": "нове"}),
    ],
)
def test_media_types_match_whatever_their_case(client, suffix, content_type, body, expected):
    """RFC 9110 §8.3.1: type, subtype and parameter names are case-insensitive."""
    session_id = create_session(client, STATE)
    response = client.request(
        "PATCH" if suffix == "diff/" else "POST",
        f"/sessions/{session_id}/{suffix}",
        content=json.dumps(body, ensure_ascii=False).encode(),
        headers={**client.auth("олена"), "If-Match": '"0"', "Content-Type": content_type},
    )
    assert (response.status_code, response.headers["ETag"]) == (200, '"1"')
    assert read(client, session_id)["state"] == expected


def test_save_stream_replaces_the_whole_state(client, clock):
    session_id = create_session(client, STATE)
    clock.now += dt.timedelta(seconds=5)
    new_state = {"зовсім": "нове", "числа": [1, 2.5, None, True]}
    response = save(client, session_id, new_state, **{"If-Match": '"0"'})
    assert response.status_code == 200
    assert response.json() == {"rev": 1, "updated_at": clock.stamp}
    assert response.headers["ETag"] == '"1"'
    assert read(client, session_id)["state"] == new_state


def test_a_whole_state_whose_stored_form_outgrows_the_limit_is_422(client):
    """Numbers are stored canonically: `1E2` (3 bytes) as `100.0` (5)."""
    session_id = create_session(client, STATE)
    numbers = ",".join(["1E2"] * 400_000)
    body = f'{{"числа": [{numbers}]}}'.encode()
    assert len(body) <= limits.STATE_SIZE_LIMIT
    response = client.post(
        f"/sessions/{session_id}/save-stream/",
        content=body,
        headers={**client.auth("олена"), "Content-Type": "application/json", "If-Match": '"0"'},
    )
    assert response.status_code == 422
    assert response.json() == error_body(
        response, domain.StateTooLarge, limit=limits.STATE_SIZE_LIMIT
    )
    assert read(client, session_id)["rev"] == 0


@pytest.mark.parametrize("state", [[1, 2], "рядок", 42, None])
def test_save_stream_of_anything_but_an_object_is_422_invalid_state(client, state):
    session_id = create_session(client, STATE)
    response = save(client, session_id, state, **{"If-Match": '"0"'})
    assert response.status_code == 422
    assert response.json() == error_body(response, domain.InvalidState)


def test_save_stream_of_broken_json_is_400_invalid_json(client):
    session_id = create_session(client, STATE)
    response = client.post(
        f"/sessions/{session_id}/save-stream/",
        content=b'{"a": ',
        headers={**client.auth("олена"), "Content-Type": "application/json", "If-Match": '"0"'},
    )
    assert response.status_code == 400
    assert response.json() == error_body(response, refusals.InvalidJson)


def test_save_stream_is_conditional_like_diff(client):
    session_id = create_session(client, STATE)
    missing = save(client, session_id, {"a": 1})
    legacy = save(client, session_id, {"a": 1}, **{"X-Rev": "3"})
    assert (missing.status_code, missing.json()["reason"]) == (412, "missing")
    assert (legacy.status_code, legacy.json()["server_rev"]) == (409, 0)
    assert read(client, session_id)["state"] == STATE


def test_the_precondition_is_checked_before_the_state_shape(client):
    session_id = create_session(client, STATE)
    response = save(client, session_id, [1], **{"If-Match": '"5"'})
    assert response.status_code == 412
    assert response.json() == precondition_body(response, "mismatch")


def test_sequential_writes_advance_the_rev_one_by_one(client):
    session_id = create_session(client, STATE)
    for rev in range(3):
        op = [{"op": "add", "path": f"/крок{rev}", "value": rev}]
        response = diff(client, session_id, op, **{"If-Match": f'"{rev}"'})
        assert response.json()["rev"] == rev + 1
    assert read(client, session_id)["state"] == {**STATE, "крок0": 0, "крок1": 1, "крок2": 2}


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("POST", "", b'{"state": {}}'),
        ("PATCH", "diff/", b'{"ops": []}'),
        ("POST", "save-stream/", '{"поле": 1}'.encode()),
        ("POST", "beacon/", b'{"a": 1}'),
    ],
)
def test_a_body_without_a_content_type_is_415(client, method, suffix, body):
    session_id = create_session(client, STATE)
    path = "/sessions/" if not suffix else f"/sessions/{session_id}/{suffix}"
    headers = {**client.auth("олена"), "If-Match": '"0"'}
    response = client.request(method, path, content=body, headers=headers)
    assert response.status_code == 415
    assert response.json() == error_body(response, refusals.UnsupportedMediaType, media_type="")
    assert read(client, session_id)["rev"] == 0


def test_create_without_a_body_needs_no_content_type(client):
    response = client.post("/sessions/", headers=client.auth("олена"))
    assert response.status_code == 201
    assert response.json()["state"] == {}


def test_an_untyped_body_for_a_strangers_session_is_404(client):
    session_id = create_session(client, STATE)
    response = client.post(
        f"/sessions/{session_id}/save-stream/",
        content=b"{}",
        headers={**client.auth("тарас"), "If-Match": '"0"'},
    )
    assert response.status_code == 404
