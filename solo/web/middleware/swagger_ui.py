"""connexion's Swagger UI, reached only by the requests its routes could match.

connexion's SwaggerUIMiddleware matches every request against a router of its own (a mount
per API, then the UI's routes) before passing it on, though only the UI's few pages can
match: here a request goes to that router only when its path (past any root path, as the
router sees it) starts with one of them.
"""

from __future__ import annotations

from typing import Any

from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from starlette._utils import get_route_path
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send


class SwaggerUi(SwaggerUIMiddleware):
    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self._prefixes: tuple[str, ...] = ()

    def add_api(self, *args: Any, **kwargs: Any) -> None:
        super().add_api(*args, **kwargs)
        self._prefixes = tuple(
            {
                mount.path + "/" + route.path.lstrip("/").split("/")[0]
                for mount in self.router.routes
                if isinstance(mount, Mount)
                for route in mount.routes
                if isinstance(route, Route | Mount)
            }
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not get_route_path(scope).startswith(self._prefixes):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
