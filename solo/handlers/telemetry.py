"""Handler of the telemetry tag."""

from __future__ import annotations

import uuid

from connexion import NoContent, request

from solo.dependencies import Dependencies
from solo.handlers import Answer
from solo.http.bodies import parse_json, parsed_body
from solo.services.telemetry import record_beacon


async def send_beacon(session_id: str, user: str, deps: Dependencies) -> Answer:
    # sendBeacon posts JSON as text/plain, which the spec can only call a string: it is
    # read as the JSON it carries, like an application/json body (parsed by the validator).
    if request.mimetype == "text/plain":
        payload, _ = parse_json(await request.body())
    else:
        payload, _ = parsed_body(request.scope)
    await deps.database.in_database_thread(
        record_beacon,
        deps.database.unit_of_work(),
        owner=user,
        session_id=uuid.UUID(session_id),
        payload=payload,
        clock=deps.clock,
        keep=deps.settings.beacon_events_kept,
    )
    return NoContent, 204
