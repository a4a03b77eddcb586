"""connexion's validators, made to raise Solo's errors with short, safe messages."""

from __future__ import annotations

import json
import math
from typing import Any

from connexion.datastructures import MediaTypeDict
from connexion.validators import VALIDATOR_MAP, JSONRequestBodyValidator, ParameterValidator
from jsonschema import ValidationError

from solo.errors import InvalidJson, InvalidRequest

_MESSAGE_MAX = 200


def short_message(text: str) -> str:
    first_line = text.splitlines()[0] if text else "invalid value"
    return first_line if len(first_line) <= _MESSAGE_MAX else first_line[: _MESSAGE_MAX - 1] + "…"


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def parse_json(raw: bytes, encoding: str = "utf-8") -> Any:
    """Strict JSON: no NaN or Infinity, no numbers beyond double range."""
    try:
        return json.loads(
            raw.decode(encoding),
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
        )
    except (UnicodeDecodeError, LookupError, ValueError, RecursionError):
        raise InvalidJson() from None


_EMPTY = object()


class JsonBodyValidator(JSONRequestBodyValidator):
    """Strict JSON; an empty body is fine exactly when the spec does not require one."""

    async def _parse(self, stream, scope) -> Any:
        raw = b"".join([chunk async for chunk in stream])
        if not raw.strip():
            return _EMPTY
        return parse_json(raw, self._encoding or "utf-8")

    def _validate(self, body: Any) -> None:
        if body is _EMPTY:
            if self._required:
                raise InvalidRequest("The request body is required.", field="body")
            return
        if body is None and not self._nullable:
            raise InvalidRequest("body: null is not allowed here", field="body")
        try:
            self._validator.validate(body)
        except ValidationError as exc:
            field = "/".join(str(part) for part in exc.absolute_path) or "body"
            raise InvalidRequest(f"{field}: {short_message(exc.message)}", field=field) from None


class SpecParameterValidator(ParameterValidator):
    def validate_request(self, request) -> None:
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
                error = check(param, request)
                if error:
                    name = param["name"]
                    raise InvalidRequest(f"{name}: {short_message(error)}", field=name)


def validator_map() -> dict:
    body = MediaTypeDict(VALIDATOR_MAP["body"])
    body["*/*json"] = JsonBodyValidator
    return {**VALIDATOR_MAP, "parameter": SpecParameterValidator, "body": body}
