"""The change feed: what made each kept rev, as RFC 6902 ops, in order."""

from __future__ import annotations

import dataclasses
import uuid

from solo import limits
from solo.db.revisions import LoggedChange
from solo.db.uow import UnitOfWork
from solo.domain.jsonvalue import timestamp, with_members
from solo.domain.model import Session
from solo.errors import ChangesCompacted, InvalidRequest, NotFound

_REPLACE_PREFIX = b'[{"op":"replace","path":"","value":'
_REPLACE_SUFFIX = b"}]"


@dataclasses.dataclass(frozen=True)
class ChangePage:
    session: Session
    changes: list[bytes]
    """Each change as its JSON object `{"rev","at","ops"}`."""
    more: bool


def changes_since(
    uow: UnitOfWork, owner: str, session_id: uuid.UUID, since: int, limit: int
) -> ChangePage:
    """The changes after rev `since`, at most `limit` of them and about a page's bytes."""
    with uow:
        session = uow.sessions.get(owner, session_id)
        if session is None:
            raise NotFound()
        if since > session.rev:
            raise InvalidRequest(
                f"since: the session is at rev {session.rev}; ask for changes since at most that",
                field="since",
            )
        logged = uow.log.changes(session_id, since, session.rev, limit + 1)
        if since < session.rev and (not logged or logged[0].rev != since + 1):
            oldest = uow.log.oldest_kept(session_id)
            raise ChangesCompacted(oldest_rev=session.rev if oldest is None else oldest - 1)
        changes: list[bytes] = []
        budget = limits.CHANGES_PAGE_BYTES
        for change in logged[:limit]:
            encoded = _encoded(uow, session_id, change)
            budget -= len(encoded) + 1
            if changes and budget < 0:
                break
            changes.append(encoded)
    return ChangePage(session, changes, more=len(changes) < len(logged))


def _encoded(uow: UnitOfWork, session_id: uuid.UUID, change: LoggedChange) -> bytes:
    ops = change.ops
    if ops is None:
        state = uow.log.checkpoint(session_id, change.rev)
        if state is None:
            raise RuntimeError(f"the checkpoint of whole-state rev {change.rev} is missing")
        ops = _REPLACE_PREFIX + state + _REPLACE_SUFFIX
    return with_members({"rev": change.rev, "at": timestamp(change.at)}, ops=ops)
