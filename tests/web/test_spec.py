"""The spec as clients meet it: served as written, no Python in it, examples that work."""

import importlib
import json
import re

import pytest

from solo.domain import errors as domain
from solo.web.errors import ANSWERS
from solo.web.routing import handler_name
from solo.web.spec import (
    ALSO_ACCEPTS,
    CHECKED_AFTER_PRECONDITION,
    for_connexion,
    load_spec,
    operations,
)
from tests.support.bodies import code_of

SPEC = load_spec()


def _walk(node, path=()):
    yield path, node
    if isinstance(node, dict | list):
        for key, child in node.items() if isinstance(node, dict) else enumerate(node):
            yield from _walk(child, (*path, key))


def test_the_document_is_served_as_written_with_its_refs(client):
    response = client.get("/openapi.json", validate=False)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == SPEC
    assert '"$ref": "#/components/schemas/PreconditionFailedError"' in response.text


def test_swagger_ui_reads_the_served_document(client):
    page = client.get("/ui/", validate=False)
    assert page.status_code == 200
    assert '"/api/v1/solo/openapi.json"' in page.text


def test_the_document_names_no_python():
    for path, node in _walk(SPEC):
        if isinstance(node, dict):
            assert not [key for key in node if key.endswith("Func") or "router" in key], path
    for op in operations(SPEC):
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", op["operationId"]), op["operationId"]


def test_every_operation_has_the_handler_its_tag_and_operation_id_name():
    for op in operations(SPEC):
        module, _, function = handler_name(op).rpartition(".")
        assert callable(getattr(importlib.import_module(module), function)), op["operationId"]


def test_every_request_and_response_body_has_an_example():
    for path, node in _walk(SPEC):
        if path[-1:] in (("content",), (ALSO_ACCEPTS,)):
            for media_type, media in node.items():
                assert "example" in media, (*path, media_type)


def test_the_marks_name_the_errors_the_domain_answers_after_the_precondition():
    marks = {
        node[CHECKED_AFTER_PRECONDITION]
        for _, node in _walk(SPEC)
        if isinstance(node, dict) and CHECKED_AFTER_PRECONDITION in node
    }
    assert marks == {code_of(domain.InvalidOps), code_of(domain.InvalidState)}


def test_connexion_checks_no_marked_part_and_every_other_part_of_a_request_body():
    served = for_connexion(SPEC)
    diff = served["paths"]["/sessions/{session_id}/diff/"]["patch"]["requestBody"]["content"]
    save = served["paths"]["/sessions/{session_id}/save-stream/"]["post"]["requestBody"]
    assert diff["application/json"]["schema"] == {
        "type": "object",
        "additionalProperties": False,
        "required": ["ops"],
        "properties": {"ops": {"type": "array", "description": "An RFC 6902 JSON Patch document."}},
    }
    assert "items" not in diff["application/json-patch+json"]["schema"]
    assert save["content"]["application/json"]["schema"] == {}
    assert not any(
        "$ref" in node or CHECKED_AFTER_PRECONDITION in node
        for op in operations(served)
        for _, node in _walk(op.get("requestBody", {}))
        if isinstance(node, dict)
    )


def test_each_error_code_has_one_schema():
    codes = {
        name: schema["properties"]["error"]["enum"]
        for name, schema in SPEC["components"]["schemas"].items()
        if "error" in schema.get("properties", {})
    }
    assert all(len(enum) == 1 for enum in codes.values())
    answered = {answer.code for answer in ANSWERS.values()} - {"method_not_allowed"}
    assert sorted(enum[0] for enum in codes.values()) == sorted(answered)


def test_trying_the_examples_in_swagger_ui_succeeds(client):
    """Create, then each write with its example body and the If-Match example's ETag."""
    paths = SPEC["paths"]
    auth = client.auth("олена")
    create = paths["/sessions/"]["post"]["requestBody"]["content"]["application/json"]
    created = client.post("/sessions/", json=create["example"], headers=auth)
    assert created.status_code == 201
    session = f"/sessions/{created.json()['id']}"
    if_match = SPEC["components"]["parameters"]["IfMatch"]["example"]
    diff = paths["/sessions/{session_id}/diff/"]["patch"]["requestBody"]
    diffed = client.patch(
        f"{session}/diff/",
        json=diff["content"]["application/json"]["example"],
        headers={**auth, "If-Match": if_match},
    )
    assert (diffed.status_code, diffed.json()["rev"]) == (200, 1)
    patch_document = diff[ALSO_ACCEPTS]["application/json-patch+json"]["example"]
    patched = client.patch(
        f"{session}/diff/",
        content=json.dumps(patch_document, ensure_ascii=False).encode(),
        headers={**auth, "If-Match": '"1"', "Content-Type": "application/json-patch+json"},
    )
    assert (patched.status_code, patched.json()["rev"]) == (200, 2)
    save = paths["/sessions/{session_id}/save-stream/"]["post"]["requestBody"]
    saved = client.post(
        f"{session}/save-stream/",
        json=save["content"]["application/json"]["example"],
        headers={**auth, "If-Match": '"2"'},
    )
    assert (saved.status_code, saved.json()["rev"]) == (200, 3)
    beacon = paths["/sessions/{session_id}/beacon/"]["post"]["requestBody"]
    as_json = client.post(
        f"{session}/beacon/", json=beacon["content"]["application/json"]["example"], headers=auth
    )
    as_text = client.post(
        f"{session}/beacon/",
        content=beacon[ALSO_ACCEPTS]["text/plain"]["example"].encode(),
        headers={**auth, "Content-Type": "text/plain;charset=UTF-8"},
    )
    assert (as_json.status_code, as_text.status_code) == (204, 204)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/ui", 307), ("/ui/", 200), ("/ui/swagger-ui.css", 200), ("/uix/", 404)],
)
def test_every_page_of_swagger_ui_is_served(client, path, status):
    page = client.get(path, validate=False, follow_redirects=False)
    assert page.status_code == status
