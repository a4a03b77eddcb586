"""connexion handlers, one module per spec tag, named after their operationIds."""

from typing import Any, TypeAlias

from starlette.responses import Response

Answer: TypeAlias = tuple[Any, int] | tuple[Any, int, dict[str, str]] | Response
"""What a handler returns: (body, status), (body, status, headers), or a response."""
