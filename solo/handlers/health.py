"""Handlers of the health tag; no token needed."""

from __future__ import annotations

from solo.dependencies import Dependencies
from solo.handlers import Answer


async def get_health() -> Answer:
    """Liveness: answered on the event loop, waiting on no pool and no dependency."""
    return {"status": "ok"}, 200


async def get_readiness(deps: Dependencies) -> Answer:
    return {"status": "ok", "checks": await deps.readiness.checks()}, 200
