"""What revision events need from the database: watch marks, heads, and what came since."""

from __future__ import annotations

import datetime as dt
import uuid

from solo.domain.model import Session
from solo.runtime.revision_feed import GONE, RevisionEvent
from solo.services.ownership import owned
from solo.services.ports import UnitOfWork


def head(uow: UnitOfWork, owner: str, session_id: uuid.UUID) -> Session:
    with uow:
        return owned(uow, owner=owner, session_id=session_id)


def watch(
    uow: UnitOfWork, session_ids: list[uuid.UUID], until: dt.datetime
) -> dict[uuid.UUID, RevisionEvent]:
    """Mark the sessions as streamed until `until`; the heads of those that still exist."""
    with uow.write():
        uow.sessions.watch(session_ids, until)
        heads = uow.sessions.heads(session_ids)
        uow.commit()
    return {session_id: RevisionEvent(*head) for session_id, head in heads.items()}


def news(uow: UnitOfWork, seen: dict[uuid.UUID, int]) -> dict[uuid.UUID, list[RevisionEvent]]:
    """For each session, the revisions after the one last delivered, in order (all of them
    while the log keeps them; a session none was delivered of (-1) gives its current rev),
    or [GONE] for a session that no longer exists."""
    found: dict[uuid.UUID, list[RevisionEvent]] = {}
    with uow:
        heads = uow.sessions.heads(list(seen))
        for session_id, last in seen.items():
            if session_id not in heads:
                found[session_id] = [GONE]
                continue
            rev, updated_at = heads[session_id]
            if rev <= last:
                continue
            logged = uow.log.revisions(session_id, last, rev) if last >= 0 else []
            current = RevisionEvent(rev, updated_at)
            found[session_id] = [RevisionEvent(*made) for made in logged] or [current]
    return found
