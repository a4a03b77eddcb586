"""One strict way in for every JSON body and every integer parameter: what no decoder
downstream may ever meet."""

import re

import pytest

from solo import limits
from solo.domain import errors as domain
from solo.http import refusals
from solo.web import validators
from solo.web.spec import HTTP_METHODS, load_spec
from solo.web.validators import noncanonical_integer
from tests.support.bodies import error_body

LONE_SURROGATE = b'"\\ud800"'
TOO_DEEP = refusals.InvalidJson(
    f"The request body nests deeper than {limits.JSON_DEPTH_LIMIT} levels."
)


def nested(levels: int) -> bytes:
    """A JSON value `levels` deep: arrays and objects in turn, with Ukrainian keys."""
    opening = "".join('{"р":' if level % 2 else "[" for level in range(levels))
    closing = "".join("}" if level % 2 else "]" for level in reversed(range(levels)))
    return f'{opening}"лист"{closing}'.encode()


BODIES = {
    "create": ("POST", "", '{"state": {"поле": %s}}', "application/json"),
    "diff": (
        "PATCH",
        "diff/",
        '{"ops": [{"op": "add", "path": "/поле", "value": %s}]}',
        "application/json",
    ),
    "json-patch": (
        "PATCH",
        "diff/",
        '[{"op": "add", "path": "/поле", "value": %s}]',
        "application/json-patch+json",
    ),
    "save-stream": ("POST", "save-stream/", '{"поле": %s}', "application/json"),
    "beacon-json": ("POST", "beacon/", '{"подія": %s}', "application/json"),
    "beacon-text": ("POST", "beacon/", '{"подія": %s}', "text/plain;charset=UTF-8"),
}


def post(client, endpoint: str, value: bytes):
    auth = client.auth("олена")
    created = client.post("/sessions/", json={"state": {"старе": 1}}, headers=auth)
    session_id = created.json()["id"]
    method, suffix, template, media_type = BODIES[endpoint]
    path = "/sessions/" if endpoint == "create" else f"/sessions/{session_id}/{suffix}"
    body = template.encode().replace(b"%s", value)
    headers = {**auth, "Content-Type": media_type, "If-Match": '"0"'}
    response = client.request(method, path, content=body, headers=headers)
    after = client.get(f"/sessions/{session_id}/", headers=auth).json()
    assert (after["rev"], after["state"], after["last_seen_at"]) == (0, {"старе": 1}, None)
    return response


@pytest.mark.parametrize("endpoint", list(BODIES))
def test_a_lone_surrogate_is_400_invalid_json(client, endpoint):
    response = post(client, endpoint, LONE_SURROGATE)
    assert response.status_code == 400
    assert response.json() == error_body(response, refusals.InvalidJson)


@pytest.mark.parametrize("levels", [limits.JSON_DEPTH_LIMIT, 600, 970, 5000])
@pytest.mark.parametrize("endpoint", list(BODIES))
def test_nesting_past_the_limit_is_400_invalid_json_at_any_depth(client, endpoint, levels):
    response = post(client, endpoint, nested(levels))
    assert response.status_code == 400
    assert response.json() == error_body(response, TOO_DEEP)


@pytest.mark.parametrize("endpoint", ["create", "diff", "save-stream", "beacon-text"])
def test_nesting_within_the_limit_is_taken(client, endpoint):
    auth = client.auth("олена")
    created = client.post("/sessions/", json={"state": {}}, headers=auth)
    method, suffix, template, media_type = BODIES[endpoint]
    session_id = created.json()["id"]
    path = "/sessions/" if endpoint == "create" else f"/sessions/{session_id}/{suffix}"
    body = template.encode().replace(b"%s", nested(limits.JSON_DEPTH_LIMIT - 4))
    headers = {**auth, "Content-Type": media_type, "If-Match": '"0"'}
    response = client.request(method, path, content=body, headers=headers)
    assert response.status_code in (200, 201, 204), response.text


ONE = "1"
INTEGER_PARAMETERS = {
    # (operationId, parameter): the request, with `{}` where the parameter's text goes
    ("listSessions", "limit"): "/sessions/?limit={}",
    ("listSnapshots", "limit"): "/sessions/{session}/snapshots/?limit={}",
    ("listSnapshots", "before_rev"): "/sessions/{session}/snapshots/?before_rev={}",
    ("getSnapshot", "rev"): "/sessions/{session}/snapshots/{}/",
    ("labelSnapshot", "rev"): "/sessions/{session}/snapshots/{}/",
    ("deleteSnapshot", "rev"): "/sessions/{session}/snapshots/{}/",
    ("listChanges", "since"): "/sessions/{session}/changes/?since={}",
    ("listChanges", "limit"): "/sessions/{session}/changes/?since=0&limit={}",
}
NOT_GET = {"labelSnapshot": ("PATCH", {"pinned": True}), "deleteSnapshot": ("DELETE", None)}
"""The operations of the table that another method than GET calls, with their body."""
ROUTED_AS_AN_INTEGER = re.compile(r"[+-]?[0-9]+")
"""What connexion's router takes for an integer path parameter; other text is no route."""
LOOSE_SPELLINGS_OF_ONE = {
    # as sent in the URL: as the server reads it (percent-decoded; `+` is a space in a query)
    "%2B1": "+1",
    "%201": " 1",
    "1%20": "1 ",
    "01": "01",
    "1.0": "1.0",
    "%D9%A1": "١",  # ARABIC-INDIC DIGIT ONE, which int() reads as 1
    "0_1": "0_1",
    "1e0": "1e0",
    "-1": "-1",
    "-0": "-0",
    "": "",
}


def test_the_table_names_every_integer_parameter_of_the_spec():
    spec = load_spec()

    def resolved(param: dict) -> dict:
        ref = param.get("$ref", "")
        return spec["components"]["parameters"][ref.rsplit("/", 1)[1]] if ref else param

    found = set()
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            for listed in [*item.get("parameters", []), *operation.get("parameters", [])]:
                param = resolved(listed)
                if param["in"] in ("query", "path") and param["schema"].get("type") == "integer":
                    found.add((operation["operationId"], param["name"]))
    assert found == set(INTEGER_PARAMETERS)


@pytest.fixture
def session_at_rev_one(client):
    """A session at rev 1 with a snapshot of rev 1: every request of the table answers 200."""
    auth = client.auth("олена")
    session_id = client.post("/sessions/", json={"state": {}}, headers=auth).json()["id"]
    ops = [{"op": "add", "path": "/назва", "value": "Чернетка"}]
    diffed = client.patch(
        f"/sessions/{session_id}/diff/", json={"ops": ops}, headers={**auth, "If-Match": '"0"'}
    )
    assert diffed.status_code == 200
    assert client.post(f"/sessions/{session_id}/snapshot/", headers=auth).status_code == 201
    return session_id


@pytest.mark.parametrize(("operation", "name"), list(INTEGER_PARAMETERS))
def test_an_integer_parameter_is_read_only_in_its_canonical_spelling(
    client, session_at_rev_one, operation, name
):
    template = INTEGER_PARAMETERS[operation, name]
    auth = client.auth("олена")
    method, body = NOT_GET.get(operation, ("GET", None))

    def call(text):
        url = template.format(text, session=session_at_rev_one)
        return client.request(method, url, headers=auth, json=body)

    canonical = call(ONE)
    assert canonical.status_code == (204 if method == "DELETE" else 200), canonical.text
    for sent, read in LOOSE_SPELLINGS_OF_ONE.items():
        response = call(sent)
        if name == "rev" and not ROUTED_AS_AN_INTEGER.fullmatch(read):
            assert response.status_code == 404, sent  # no route: like any unknown path
            assert response.json() == error_body(response, domain.NotFound)
            continue
        message = f"{name}: {read!r} is not a canonical integer (digits only, no leading zero)"
        assert response.status_code == 400, sent
        assert response.json() == error_body(
            response, refusals.InvalidRequest(message), field=name
        ), sent


@pytest.mark.parametrize(
    ("minimum", "text", "refused"),
    [
        (None, "-3", False),
        (-5, "-3", False),
        (None, "0", False),
        (None, "-0", True),
        (None, "--3", True),
        (None, "-03", True),
        (None, "+3", True),
        (0, "-3", True),
    ],
)
def test_a_minus_is_canonical_only_where_the_schema_allows_negatives(minimum, text, refused):
    schema = {"type": "integer"} if minimum is None else {"type": "integer", "minimum": minimum}
    error = noncanonical_integer(schema, [text])
    form = "digits only" if minimum == 0 else "an optional -, then digits"
    assert error == (
        f"{text!r} is not a canonical integer ({form}, no leading zero)" if refused else None
    )


@pytest.mark.parametrize("kept", [1, 2, limits.PARAMETER_VERDICTS_KEPT])
def test_remembered_verdicts_are_the_verdicts_of_the_schema_and_the_type(monkeypatch, kept):
    monkeypatch.setattr(limits, "PARAMETER_VERDICTS_KEPT", kept)
    verdicts = validators._Verdicts()
    integer, text = {"type": "integer", "minimum": 1}, {"type": "string", "maxLength": 3}
    long_text = "ж" * (limits.PARAMETER_VERDICT_MAX_CHARS + 1)
    asked = [
        (integer, 1, None),
        (integer, True, "True is not of type 'integer'"),
        (integer, 1, None),
        (integer, 0, "0 is less than the minimum of 1"),
        (text, "їжа", None),
        (text, "їжак", "'їжак' is too long"),
        (text, long_text, f"{long_text!r} is too long"),
        (text, "їжа", None),
        (integer, True, "True is not of type 'integer'"),
    ]
    for _ in range(2):
        assert [verdicts.error(schema, value) for schema, value, _ in asked] == [
            verdict for _, _, verdict in asked
        ]
    remembered = len(verdicts._kept)
    assert verdicts.error(integer, 2**70) is None  # long values are checked, not kept
    assert len(verdicts._kept) == remembered
