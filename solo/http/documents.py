"""How domain objects look on the wire."""

from __future__ import annotations

from typing import Any

from solo.domain.jsonvalue import timestamp, with_members
from solo.domain.model import Session


def session_summary(session: Session) -> dict[str, Any]:
    return {
        "id": str(session.id),
        "rev": session.rev,
        "created_at": timestamp(session.created_at),
        "updated_at": timestamp(session.updated_at),
    }


def session_document(session: Session, state: bytes, beacon_url: str, events_url: str) -> bytes:
    last_seen_at = session.last_seen_at and timestamp(session.last_seen_at)
    document = {
        **session_summary(session),
        "last_seen_at": last_seen_at,
        "beacon_url": beacon_url,
        "events_url": events_url,
    }
    return with_members(document, state=state)
