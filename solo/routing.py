"""How connexion finds Solo's code, with no Python path in the public document.

An operation's handler is `solo.handlers.<first tag>.<operationId in snake_case>`
(`diffSession` tagged `sessions` is `solo.handlers.sessions.diff_session`), and the
security schemes' functions are given by scheme type rather than by `x-*InfoFunc`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from connexion.resolver import Resolution, Resolver
from connexion.security import ApiKeySecurityHandler, BearerSecurityHandler

from solo.auth import bearer_info, session_token_info
from solo.spec import operations

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


class BearerAuth(BearerSecurityHandler):
    def _resolve_func(self, security_scheme: dict[str, Any]) -> Callable[..., dict[str, Any]]:
        return bearer_info


class SessionTokenAuth(ApiKeySecurityHandler):
    def _resolve_func(self, security_scheme: dict[str, Any]) -> Callable[..., dict[str, Any]]:
        return session_token_info(security_scheme["x-token-purpose"])


SECURITY_MAP = {"bearer": BearerAuth, "apiKey": SessionTokenAuth}
"""connexion's security handlers by scheme type: one bearer scheme, and apiKey schemes
for the session tokens, each naming its purpose in `x-token-purpose`."""
