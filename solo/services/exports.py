"""Exports: a session, its state and its snapshot list as one bounded document."""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from solo import limits
from solo.domain.jsonvalue import with_members
from solo.domain.model import Session, StoredSnapshot
from solo.runtime.state_cache import StateCache
from solo.services.ports import UnitOfWork
from solo.services.states import owned_state


def export_session(
    uow: UnitOfWork, cache: StateCache, *, owner: str, session_id: uuid.UUID
) -> tuple[Session, bytes, list[StoredSnapshot]]:
    """The session, its state's JSON and its snapshots, newest first."""
    session, state = owned_state(uow, cache, owner=owner, session_id=session_id)
    with uow:
        snapshots = uow.snapshots.newest(session_id, limit=session.rev + 1)
    return session, state, snapshots


def fit_export(document: dict[str, Any], state: bytes, snapshots: list[dict[str, Any]]) -> bytes:
    """The export as JSON within the export limit: the oldest snapshot entries go first.

    The state (at most the state limit) always fits; the entries are encoded once each
    and as many of the newest are kept as the rest of the limit allows.
    """
    entries = [orjson.dumps(entry) for entry in snapshots]
    room = limits.EXPORT_RESPONSE_LIMIT - len(
        with_members({**document, "snapshots": [], "snapshots_truncated": True}, state=state)
    )
    kept = 0
    for entry in entries:
        room -= len(entry) + (1 if kept else 0)
        if room < 0:
            break
        kept += 1
    fitted = {**document, "snapshots_truncated": kept < len(entries)}
    listed = b"[" + b",".join(entries[:kept]) + b"]"
    return with_members(fitted, state=state, snapshots=listed)
