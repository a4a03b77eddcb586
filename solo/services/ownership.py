"""A session is its owner's: to anyone else it does not exist (404, never 403)."""

from __future__ import annotations

import uuid

from solo.domain.errors import NotFound
from solo.domain.model import Session
from solo.services.ports import UnitOfWork


def owned(
    uow: UnitOfWork,
    *,
    owner: str,
    session_id: uuid.UUID,
    for_update: bool = False,
    held: bool = False,
) -> Session:
    """The owner's session's head, inside `uow`'s transaction; NotFound for a session that
    does not exist or is another user's. `for_update` locks its row until the transaction
    ends; `held` holds it only against its deletion (writers go on)."""
    session = uow.sessions.get(owner, session_id, for_update=for_update, held=held)
    if session is None:
        raise NotFound()
    return session
