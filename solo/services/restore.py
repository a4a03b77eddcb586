"""Restore: the state of a kept revision becomes a new revision."""

from __future__ import annotations

import logging
import uuid

from solo.db.uow import UnitOfWork
from solo.domain import jsonvalue
from solo.domain.model import Clock, Replace, Revision, Session
from solo.domain.patch import apply_patch
from solo.domain.preconditions import Precondition
from solo.errors import NotFound, RevisionUnavailable, Unavailable
from solo.services import writes
from solo.services.states import encoded_state
from solo.state_cache import StateCache
from solo.storage import BlobStore, StorageUnavailable

log = logging.getLogger(__name__)


def restore(
    uow: UnitOfWork,
    cache: StateCache,
    store: BlobStore,
    owner: str,
    session_id: uuid.UUID,
    precondition: Precondition,
    rev: int,
    clock: Clock,
    changes_kept: int,
) -> Revision:
    """Write the state of `rev` as a new revision, under `precondition` like any write.

    The precondition is checked before the old state is looked for (a stale client hears
    412 before 422), and again when the new revision is written.
    """
    with uow:
        session = uow.sessions.get(owner, session_id)
        if session is None:
            raise NotFound()
        precondition.check(session.rev)
        encoded = _from_log(uow, cache, session, rev)
        snapshot = None if encoded is not None else uow.snapshots.get(session_id, rev)
    if encoded is None and snapshot is not None:
        encoded = _from_snapshot(store, snapshot.key)
    if encoded is None:
        raise RevisionUnavailable(rev)
    state = jsonvalue.decode_canonical(encoded)
    return writes.write(
        uow, cache, owner, session_id, precondition, Replace(state, encoded), clock, changes_kept
    )


def _from_log(uow: UnitOfWork, cache: StateCache, session: Session, rev: int) -> bytes | None:
    """The canonical JSON of the state at `rev`, rebuilt from a checkpoint and the kept
    changes after it; None when they do not reach back that far."""
    if not 0 <= rev <= session.rev:
        return None
    if rev == session.rev:
        return encoded_state(uow, cache, session)
    checkpoint = uow.log.newest_checkpoint(session.id, at_most=rev)
    if checkpoint is None:
        return None
    base, data = checkpoint
    changes = uow.log.changes(session.id, base, rev)
    if [change.rev for change in changes] != list(range(base + 1, rev + 1)):
        return None
    state = jsonvalue.decode_canonical(data)
    for change in changes:
        if change.ops is None:
            return None
        state = apply_patch(state, 0, jsonvalue.decode_canonical(change.ops), checked=False).state
    return jsonvalue.encode(state)


def _from_snapshot(store: BlobStore, key: str) -> bytes | None:
    try:
        document = store.get(key)
    except StorageUnavailable as exc:
        log.error("snapshot %s could not be read: %s", key, exc)
        raise Unavailable({"storage": "unavailable"}) from None
    if document is None:
        return None
    state = jsonvalue.decode(document)[0].get("state")
    return jsonvalue.encode(state) if isinstance(state, dict) else None
