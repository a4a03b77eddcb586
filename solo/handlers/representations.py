"""How domain objects look on the wire."""

from __future__ import annotations

import datetime as dt

from solo.db.repository import StoredSession


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def session_summary(stored: StoredSession) -> dict:
    return {
        "id": str(stored.id),
        "rev": stored.rev,
        "created_at": rfc3339(stored.created_at),
        "updated_at": rfc3339(stored.updated_at),
    }


def session_document(stored: StoredSession, beacon_url: str) -> dict:
    last_seen_at = stored.last_seen_at and rfc3339(stored.last_seen_at)
    return {
        **session_summary(stored),
        "state": stored.state,
        "last_seen_at": last_seen_at,
        "beacon_url": beacon_url,
    }


def write_result(stored: StoredSession) -> dict:
    return {"rev": stored.rev, "updated_at": rfc3339(stored.updated_at)}
