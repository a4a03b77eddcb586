"""The OpenAPI document: where it is, and what Solo reads from it.

`openapi/solo.yaml` is the source of truth. `solo/openapi.yaml` is a symbolic link to it,
so the same file is found in a checkout and, as package data, in an installed wheel.
"""

from __future__ import annotations

import copy
import functools
import pathlib
from collections.abc import Iterator
from typing import Any

import yaml

SPEC_PATH = pathlib.Path(__file__).resolve().parents[1] / "openapi.yaml"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

ALSO_ACCEPTS = "x-also-accepts"
"""On a request body: media types the server takes besides `content`, with their schemas."""

CHECKED_AFTER_PRECONDITION = "x-checked-after-precondition"
"""On a schema or a request media type: broken, it is the named 422, after the precondition."""


def load_spec() -> dict[str, Any]:
    """A copy of the document, which its caller may change."""
    return copy.deepcopy(_parsed())


@functools.cache
def _parsed() -> dict[str, Any]:
    # Parsed once per process, with libyaml where PyYAML has it (ten times faster than
    # the pure-Python parser on this document).
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    spec: dict[str, Any] = yaml.load(SPEC_PATH.read_bytes(), Loader=loader)
    return spec


def operations(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path_item in spec["paths"].values():
        for method in HTTP_METHODS:
            if method in path_item:
                yield path_item[method]


def body_limits(spec: dict[str, Any]) -> dict[str, int]:
    """Each operation's `x-body-limit`, by operationId."""
    return {
        op["operationId"]: op["requestBody"]["x-body-limit"]
        for op in operations(spec)
        if "x-body-limit" in op.get("requestBody", {})
    }


def rate_limit_groups(spec: dict[str, Any]) -> dict[str, str]:
    """Each operation's `x-rate-limit-group`, by operationId."""
    return {
        op["operationId"]: op["x-rate-limit-group"]
        for op in operations(spec)
        if "x-rate-limit-group" in op
    }


def path_parameter_positions(spec: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Where each operation's path parameters sit in its path, by operationId: the index of
    a parameter's segment counted from the path's end (whatever base path it is served
    under), for reading a parameter as the request spelled it."""
    positions: dict[str, dict[str, int]] = {}
    for template, path_item in spec["paths"].items():
        segments = template.split("/")
        found = {
            segment[1:-1]: index - len(segments)
            for index, segment in enumerate(segments)
            if segment.startswith("{") and segment.endswith("}")
        }
        for method in HTTP_METHODS:
            if method in path_item:
                positions[path_item[method]["operationId"]] = found
    return positions


def for_connexion(spec: dict[str, Any]) -> dict[str, Any]:
    """The document connexion routes and validates with.

    The media types of `x-also-accepts` join `content`. Each request body's schema is
    inlined, and what it marks `x-checked-after-precondition` is left to the domain: the
    server checks those parts after the precondition (RFC 9110 §13.2.1), with the same rules
    (tests/domain/test_operations.py holds the two to each other), and a body validator
    walking thousands of ops with jsonschema would cost a third of a second on the event
    loop for one 512 KiB diff.
    """
    served = copy.deepcopy(spec)
    schemas = served["components"]["schemas"]
    for op in operations(served):
        body = op.get("requestBody")
        if body is None:
            continue
        body["content"].update(body.pop(ALSO_ACCEPTS, {}))
        for media_type in body["content"].values():
            if media_type.pop(CHECKED_AFTER_PRECONDITION, None) is not None:
                media_type["schema"] = {}
            else:
                media_type["schema"] = _checked_now(media_type["schema"], schemas)
    return served


def _checked_now(schema: Any, schemas: dict[str, Any]) -> Any:
    """`schema` with its `$ref`s inlined and its parts checked after the precondition
    replaced by the schema that takes anything."""
    if isinstance(schema, list):
        return [_checked_now(item, schemas) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return _checked_now(schemas[schema["$ref"].rpartition("/")[2]], schemas)
    if CHECKED_AFTER_PRECONDITION in schema:
        return {}
    inlined = {key: _checked_now(value, schemas) for key, value in schema.items()}
    if inlined.get("items") == {}:
        del inlined["items"]  # it takes any item: not one descent per item of a long array
    return inlined
