"""How domain objects look on the wire."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from solo.domain.jsonvalue import encode, timestamp, with_members
from solo.domain.model import Revision, Session


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


def write_result(revision: Revision) -> dict[str, Any]:
    return {"rev": revision.rev, "updated_at": timestamp(revision.updated_at)}


def json_answer(document: dict[str, Any], status: int, headers: dict[str, str]) -> Response:
    """A JSON answer encoded here, once, rather than by connexion's slower jsonifier: for
    the write path's small bodies."""
    return Response(encode(document), status, headers=headers, media_type="application/json")
