"""Validates real responses against openapi/solo.yaml with openapi-core."""

from __future__ import annotations

import functools
import json
from urllib.parse import urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from werkzeug.datastructures import Headers, ImmutableMultiDict

from solo.web.spec import SPEC_PATH, load_spec


@functools.cache
def openapi() -> OpenAPI:
    return OpenAPI.from_file_path(str(SPEC_PATH))


class _Request:
    """openapi-core's Request protocol over an httpx2 request."""

    def __init__(self, request) -> None:
        url = urlsplit(str(request.url))
        self.host_url = f"{url.scheme}://{url.netloc}"
        self.path = url.path
        self.method = request.method.lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(request.url.params.multi_items()),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )
        self.content_type = request.headers.get("content-type", "")
        self.body = request.content or None


class _Response:
    def __init__(self, response) -> None:
        self.status_code = response.status_code
        self.headers = Headers(list(response.headers.items()))
        self.content_type = response.headers.get("content-type", "")
        self.data = response.content or None


def assert_conforms(response) -> None:
    """Raise unless status, headers and body are what the spec declares."""
    openapi().validate_response(_Request(response.request), _Response(response))


EVENTS_PATH = "/sessions/{session_id}/events/"


@functools.cache
def _event_schemas() -> tuple[dict, dict[str, dict]]:
    """The stream's event schema (with the components it refers to) and, by event name,
    the `x-data-schema` of its `data`."""
    spec = load_spec()
    stream = spec["paths"][EVENTS_PATH]["get"]["responses"]["200"]["content"]
    schema = {**stream["text/event-stream"]["schema"], "components": spec["components"]}
    mapping = schema["discriminator"]["mapping"]
    schemas = spec["components"]["schemas"]
    data = {
        name: {
            **schemas[ref.rsplit("/", 1)[1]]["properties"]["data"]["x-data-schema"],
            "components": spec["components"],
        }
        for name, ref in mapping.items()
    }
    return schema, data


def assert_event_conforms(fields: dict[str, str]) -> None:
    """Raise unless one Server-Sent Event (its fields as read off the wire) is what the spec
    declares: the event itself, and the JSON its `data` holds."""
    event_schema, data_schemas = _event_schemas()
    event: dict[str, object] = dict(fields)
    if "retry" in event:
        event["retry"] = int(fields["retry"])
    OAS30Validator(event_schema, format_checker=oas30_format_checker).validate(event)
    data_schema = data_schemas[fields["event"]]
    OAS30Validator(data_schema, format_checker=oas30_format_checker).validate(
        json.loads(fields["data"])
    )
