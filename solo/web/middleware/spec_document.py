"""The OpenAPI document as written, `$ref`s intact, at `<base path>/openapi.json`.

connexion would serve a fully dereferenced copy, from which generators make anonymous
types; this serves the YAML as loaded, so every schema keeps its name.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

SPEC_DOCUMENT = "/openapi.json"


class SpecDocumentMiddleware:
    def __init__(self, app: ASGIApp, spec: dict[str, Any], base_path: str) -> None:
        self.app = app
        self.path = base_path + SPEC_DOCUMENT
        self.body = json.dumps(spec, ensure_ascii=False).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] == self.path
            and scope["method"]
            in (
                "GET",
                "HEAD",
            )
        ):
            response = Response(self.body, media_type="application/json")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
