"""Beacons: telemetry only. They never touch state, rev, updated_at or snapshots."""

from __future__ import annotations

import uuid

from solo.domain.errors import NotFound
from solo.domain.model import Clock
from solo.services.ports import UnitOfWork


def record_beacon(
    uow: UnitOfWork,
    *,
    owner: str,
    session_id: uuid.UUID,
    payload: object,
    clock: Clock,
    keep: int,
) -> None:
    with uow.write():
        if not uow.telemetry.record(owner, session_id, payload, clock()):
            raise NotFound()
        uow.telemetry.keep_newest(session_id, keep)
        uow.commit()
