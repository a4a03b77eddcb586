"""connexion's validators, made to raise Solo's errors with short, safe messages, to parse
every JSON body once with Solo's strict decoder, to read integer parameters only in their
canonical spelling, and to build each schema's validator once."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator, Draft4ResponseValidator
from connexion.utils import is_null, is_nullable
from connexion.validators import (
    VALIDATOR_MAP,
    JSONRequestBodyValidator,
    JSONResponseBodyValidator,
    ParameterValidator,
)
from jsonschema import Draft4Validator, ValidationError
from jsonschema.exceptions import best_match
from starlette.datastructures import QueryParams
from starlette.types import Scope

from solo import limits
from solo.http import scope as connexion_scope
from solo.http.bodies import parse_json
from solo.http.refusals import InvalidRequest
from solo.http.scope import keep_body
from solo.web.spec import path_parameter_positions

_MESSAGE_MAX = 200
_SCHEMAS_CACHED = 1024
"""More than the spec has: schemas are the spec's own, loaded once."""


def short_message(text: str) -> str:
    first_line = text.splitlines()[0] if text else "invalid value"
    return first_line if len(first_line) <= _MESSAGE_MAX else first_line[: _MESSAGE_MAX - 1] + "…"


class _Cached:
    """jsonschema validators by schema: connexion would build one per request."""

    def __init__(self, validator_class: type[Draft4Validator]) -> None:
        self._class = validator_class
        self._by_schema: dict[int, tuple[dict[str, Any], Draft4Validator]] = {}

    def __call__(self, schema: dict[str, Any]) -> Draft4Validator:
        held = self._by_schema.get(id(schema))
        if held is not None:
            return held[1]
        validator = self._class(schema, format_checker=Draft4Validator.FORMAT_CHECKER)
        if len(self._by_schema) < _SCHEMAS_CACHED:
            # The schema is kept alive beside its validator, so its id is never reused.
            self._by_schema[id(schema)] = (schema, validator)
        return validator


_request_validator = _Cached(Draft4RequestValidator)
_response_validator = _Cached(Draft4ResponseValidator)
_parameter_validator = _Cached(Draft4Validator)

_EMPTY = object()


# connexion 3.3's private members overridden below (tests/web/test_connexion_canaries.py
# fails when an upgrade renames or reshapes one):
# - JSONRequestBodyValidator._validator (property), _parse(stream, scope), _validate(body),
#   and the attributes _schema and _required its __init__ sets;
# - JSONResponseBodyValidator.validator (property) and _schema.
class JsonBodyValidator(JSONRequestBodyValidator):
    """Strict JSON; an empty body is fine exactly when the spec does not require one.
    (What the spec marks `x-checked-after-precondition` is not in the schema connexion
    is given: the domain checks it, after the precondition; see solo.web.spec.for_connexion.)"""

    @property
    def _validator(self) -> Draft4Validator:
        return _request_validator(self._schema)

    async def _parse(self, stream: AsyncIterator[bytes], scope: Scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw.strip():
            return _EMPTY
        value, canonical = parse_json(raw)
        keep_body(scope, (value, canonical))
        return value

    def _validate(self, body: Any) -> None:
        if body is _EMPTY:
            if self._required:
                raise InvalidRequest("The request body is required.", field="body")
            return
        failures = list(self._validator.iter_errors(body))
        if failures and body is None:
            raise InvalidRequest("body: null is not allowed here", field="body")
        if failures:
            error = best_match(failures)
            field = "/".join(str(part) for part in error.absolute_path) or "body"
            raise InvalidRequest(f"{field}: {short_message(error.message)}", field=field)


class JsonResponseValidator(JSONResponseBodyValidator):
    @property
    def validator(self) -> Draft4Validator:
        return _response_validator(self._schema)


class SpecParameterValidator(ParameterValidator):
    """Short messages naming the field, and integer parameters read only when canonical."""

    def __init__(
        self, *args: Any, path_positions: dict[str, dict[str, int]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._path_positions = path_positions

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: dict[str, Any], param_name: str | None = None
    ) -> str | None:
        if value is None or (is_nullable(param) and is_null(value)):
            outcome: str | None = ParameterValidator.validate_parameter(
                parameter_type, value, param, param_name
            )
            return outcome
        return _verdicts.error(param.get("schema", param), value)

    def validate_request(self, request: Any) -> None:
        if self.strict_validation:
            unknown = self.validate_query_parameter_list(
                request, security_params=self.security_query_params
            )
            if unknown:
                names = ",".join(sorted(unknown))
                raise InvalidRequest(f"Unknown query parameter(s): {names}", field=names)
        checks = {
            "query": self.validate_query_parameter,
            "path": self.validate_path_parameter,
            "header": self.validate_header_parameter,
            "cookie": self.validate_cookie_parameter,
        }
        for location, check in checks.items():
            for param in self.parameters.get(location, []):
                error = self._loose_integer(param, request.scope) or check(param, request)
                if error:
                    name = param["name"]
                    raise InvalidRequest(f"{name}: {short_message(error)}", field=name)

    def _loose_integer(self, param: dict[str, Any], scope: Scope) -> str | None:
        schema = param.get("schema", param)
        if schema.get("type") != "integer":
            return None
        return noncanonical_integer(schema, self._texts(param, scope))

    def _texts(self, param: dict[str, Any], scope: Scope) -> list[str]:
        """A query or path parameter's values as the request spelled them (percent-decoded):
        connexion's router has already turned an integer path parameter into an int."""
        if param["in"] == "query":
            return QueryParams(scope.get("query_string", b"")).getlist(param["name"])
        if param["in"] != "path":
            return []
        operation = connexion_scope.operation_id(scope) or ""
        position = self._path_positions.get(operation, {}).get(param["name"])
        segments = scope["path"].split("/")
        return [] if position is None or -position > len(segments) else [segments[position]]


class _Verdicts:
    """Each parameter schema's verdict on a short value, remembered: a client sends the same
    session id, `If-Match` and the like with write after write. Keyed by type too
    (`True == 1`); each entry holds its schema alive, so no other schema can take its id
    while the entry is there."""

    def __init__(self) -> None:
        self._kept: dict[tuple[int, type, Any], tuple[dict[str, Any], str | None]] = {}

    def error(self, schema: dict[str, Any], value: Any) -> str | None:
        if not _rememberable(value):
            return _error(schema, value)
        key = (id(schema), type(value), value)
        held = self._kept.get(key)
        if held is not None:
            return held[1]
        verdict = _error(schema, value)
        if len(self._kept) >= limits.PARAMETER_VERDICTS_KEPT:
            self._kept.clear()
        self._kept[key] = (schema, verdict)
        return verdict


def _rememberable(value: Any) -> bool:
    if isinstance(value, str):
        return len(value) <= limits.PARAMETER_VERDICT_MAX_CHARS
    return type(value) is bool or (type(value) is int and -(2**63) <= value < 2**63)


def _error(schema: dict[str, Any], value: Any) -> str | None:
    try:
        _parameter_validator(schema).validate(value)
    except ValidationError as exc:
        return short_message(exc.message)
    return None


_verdicts = _Verdicts()

_CANONICAL_INTEGER = re.compile(r"0|[1-9][0-9]*")
_CANONICAL_SIGNED_INTEGER = re.compile(r"0|-?[1-9][0-9]*")


def noncanonical_integer(schema: dict[str, Any], texts: list[str]) -> str | None:
    """Why an integer parameter's text is refused, if it is: only its canonical spelling is
    read (digits without a leading zero; a `-` only where the schema allows negatives), as
    every other number of the API. connexion converts with int(), which also takes `+3`,
    ` 3`, `03`, `3_0` and other scripts' digits: several texts for one value, which a cache,
    a log or another implementation would read apart."""
    negatives = schema.get("minimum") is None or schema["minimum"] < 0
    canonical = _CANONICAL_SIGNED_INTEGER if negatives else _CANONICAL_INTEGER
    form = "an optional -, then digits" if negatives else "digits only"
    for text in texts:
        if not canonical.fullmatch(text):
            return f"{text!r} is not a canonical integer ({form}, no leading zero)"
    return None


def validator_map(spec: dict[str, Any]) -> dict[str, Any]:
    body = MediaTypeDict(VALIDATOR_MAP["body"])
    body["*/*json"] = JsonBodyValidator
    response = MediaTypeDict(VALIDATOR_MAP["response"])
    response["*/*json"] = JsonResponseValidator
    return {
        **VALIDATOR_MAP,
        "parameter": functools.partial(
            SpecParameterValidator, path_positions=path_parameter_positions(spec)
        ),
        "body": body,
        "response": response,
    }
