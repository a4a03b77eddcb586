"""Handlers of the health tag; no token needed."""

from __future__ import annotations

from solo.dependencies import Dependencies
from solo.services.health import readiness


def get_health():
    return {"status": "ok"}, 200


def get_readiness(deps: Dependencies):
    return {"status": "ok", "checks": readiness(deps.unit_of_work(), deps.blob_store)}, 200
