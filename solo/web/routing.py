"""How connexion finds Solo's code, with no Python path in the public document.

An operation's handler is `solo.handlers.<first tag>.<operationId in snake_case>`
(`diffSession` tagged `sessions` is `solo.handlers.sessions.diff_session`); the security
schemes' functions are given by scheme type (solo.web.security).
"""

from __future__ import annotations

import re
from typing import Any

from connexion.resolver import Resolution, Resolver

from solo.web.spec import operations

HANDLERS = "solo.handlers"


def snake_case(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()


def handler_name(operation: dict[str, Any]) -> str:
    return f"{HANDLERS}.{operation['tags'][0]}.{snake_case(operation['operationId'])}"


class TagResolver(Resolver):
    """Resolves each operation to its handler; the scope keeps the spec's operationId."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__()
        self._handlers = {op["operationId"]: handler_name(op) for op in operations(spec)}

    def resolve(self, operation: Any) -> Resolution:
        function = self.resolve_function_from_operation_id(self._handlers[operation.operation_id])
        return Resolution(function, operation.operation_id)
