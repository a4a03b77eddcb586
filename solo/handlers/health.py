"""Handlers of the health tag; no token needed."""

from __future__ import annotations

from solo.dependencies import Dependencies


async def get_health():
    """Liveness: answered on the event loop, waiting on no pool and no dependency."""
    return {"status": "ok"}, 200


async def get_readiness(deps: Dependencies):
    return {"status": "ok", "checks": await deps.readiness.checks()}, 200
