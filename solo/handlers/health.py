"""Handlers of the health tag; no token needed."""

from __future__ import annotations

from solo.dependencies import Dependencies
from solo.services.health import readiness


async def get_health():
    return {"status": "ok"}, 200


async def get_readiness(deps: Dependencies):
    checks = await deps.in_database_thread(readiness, deps.unit_of_work(), deps.blob_store)
    return {"status": "ok", "checks": checks}, 200
