"""connexion's request validation, with what depends only on the operation built once.

connexion 3.3 builds, on every request, two URI parsers, a parameter validator, the
operation's body definition (a media-type lookup by fnmatch) and a body validator: about a
quarter of a small write's CPU time (bench/RESULTS.md). None of them depends on the
request but its media type, so each operation keeps its own, and its body validators by
media type and charset.

Private members of connexion 3.3 this relies on (tests/web/test_connexion_canaries.py):
`RequestValidationOperation._operation`, `_validator_map` and `security_query_params`;
`RequestValidationAPI.make_operation`; `AbstractOperation._uri_parser_class`.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from connexion import utils
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.operations import AbstractOperation
from starlette.types import Receive, Scope, Send

from solo import limits

log = logging.getLogger(__name__)


class _Validation(RequestValidationOperation):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._bodies: dict[tuple[str, str], Any] = {}
        """By media type and charset, once the media type is accepted: the body's validator,
        or None where connexion validates none (no schema, or no validator for the type)."""

    @functools.cached_property
    def _parameters(self) -> Any:
        operation = self._operation
        return self._validator_map["parameter"](
            operation.parameters,
            uri_parser=operation._uri_parser_class(
                operation.parameters, operation.body_definition()
            ),
            strict_validation=self.strict_validation,
            security_query_params=self.security_query_params,
        )

    def _body_validator(self, mime_type: str, encoding: str) -> Any:
        key = (mime_type, encoding)
        if key in self._bodies:
            return self._bodies[key]
        self.validate_mime_type(mime_type)
        validator = self._new_body_validator(mime_type, encoding)
        if len(self._bodies) >= limits.MEDIA_TYPES_KEPT:
            self._bodies.clear()  # made-up spellings cannot keep the real ones out
        self._bodies[key] = validator
        return validator

    def _new_body_validator(self, mime_type: str, encoding: str) -> Any:
        operation = self._operation
        schema = operation.body_schema(mime_type)
        if not schema:
            return None
        try:
            validator_class = self._validator_map["body"][mime_type]
        except KeyError:
            log.info("No validator for the content type %s: its body is not validated", mime_type)
            return None
        return validator_class(
            schema=schema,
            required=operation.request_body.get("required", False),
            nullable=utils.is_nullable(operation.body_definition(mime_type)),
            encoding=encoding,
            strict_validation=self.strict_validation,
            uri_parser=operation.uri_parser_class(
                operation.parameters, operation.body_definition()
            ),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self._parameters.validate(scope)
        validator = self._body_validator(*self.extract_content_type(scope["headers"]))
        if validator is not None:
            receive, scope = await validator.wrap_receive(receive, scope=scope)
        await self.next_app(scope, receive, send)


class _Api(RequestValidationAPI):
    def make_operation(self, operation: AbstractOperation) -> RequestValidationOperation:
        return _Validation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class RequestValidation(RequestValidationMiddleware):
    """connexion's RequestValidationMiddleware, each operation's validators built once."""

    api_cls = _Api
