"""Handler of the telemetry tag."""

from __future__ import annotations

import uuid

from connexion import NoContent, request
from starlette.concurrency import run_in_threadpool

from solo.dependencies import Dependencies
from solo.services.telemetry import record_beacon
from solo.validators import parse_json


async def send_beacon(session_id: str, user: str, deps: Dependencies):
    # sendBeacon posts JSON as text/plain, which the spec can only call a string:
    # both media types are read as the JSON they carry.
    payload = parse_json(await request.body())
    await run_in_threadpool(
        record_beacon,
        deps.unit_of_work(),
        user,
        uuid.UUID(session_id),
        payload,
        deps.clock,
        deps.settings.beacon_events_kept,
    )
    return NoContent, 204
