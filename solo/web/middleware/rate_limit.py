"""Per-user rate limits, decided after auth and before any body is read."""

from __future__ import annotations

import time

from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from solo.http import scope as connexion_scope
from solo.http.refusals import RateLimited
from solo.runtime.rate_limits import RateLimits


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, rate_limits: RateLimits, groups: dict[str, str]) -> None:
        self.app = app
        self.rate_limits = rate_limits
        self.groups = groups
        """Endpoint group by the operation id connexion routes to."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        group = self.groups.get(connexion_scope.operation_id(scope) or "")
        user = connexion_scope.user(scope)
        if scope["type"] != "http" or group is None or user is None:
            await self.app(scope, receive, send)
            return
        if self.rate_limits.blocking:
            decision = await run_in_threadpool(self.rate_limits.hit, group, user)
        else:
            decision = self.rate_limits.hit(group, user)
        now = time.time()
        if not decision.allowed:
            raise RateLimited(
                limit=decision.limit,
                window=decision.window,
                retry_after=decision.retry_after(now),
                rate_headers=decision.headers(now),
            )
        connexion_scope.add_response_headers(scope, decision.headers(now))
        await self.app(scope, receive, send)
