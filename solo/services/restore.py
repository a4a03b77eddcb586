"""Restore: the state of a kept revision becomes a new revision."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

from solo.domain import jsonvalue
from solo.domain.errors import RevisionUnavailable
from solo.domain.model import Clock, KeptLog, Replace, Session
from solo.domain.preconditions import Precondition
from solo.runtime.state_cache import StateCache
from solo.services import writes
from solo.services.idempotency import Keyed, answered
from solo.services.ownership import owned
from solo.services.ports import Database, Store, UnitOfWork
from solo.services.states import encoded_state, replayed


@dataclasses.dataclass(frozen=True)
class _Source:
    """Where the old state is: already rebuilt from the log, or in a snapshot object."""

    encoded: bytes | None
    snapshot_key: str | None


async def restore(
    db: Database,
    cache: StateCache,
    store: Store,
    *,
    owner: str,
    session_id: uuid.UUID,
    precondition: Precondition,
    rev: int,
    clock: Clock,
    kept: KeptLog,
    keyed: Keyed | None = None,
) -> writes.Written:
    """Write the state of `rev` as a new revision, under `precondition` like any write.

    A key whose restore was applied replays its answer first of all. The precondition is
    checked before the old state is looked for (a stale client hears 412 before 422), and
    again when the new revision is written. The log is asked first; a snapshot object is
    read from the store outside any database transaction.
    """
    source = await db.in_session_thread(
        session_id,
        _source,
        db.unit_of_work(),
        cache,
        owner=owner,
        session_id=session_id,
        precondition=precondition,
        rev=rev,
        keyed=keyed,
        now=clock(),
    )
    if isinstance(source, writes.Written):
        return source
    encoded = source.encoded
    if encoded is None and source.snapshot_key is not None:
        encoded = _state_of_snapshot(await store.get(source.snapshot_key))
    if encoded is None:
        raise RevisionUnavailable(rev)
    change = Replace(jsonvalue.decode_canonical(encoded), encoded)
    request = writes.Write(owner, session_id, precondition, change, keyed=keyed)
    return await db.in_session_thread(
        session_id, writes.write, db.unit_of_work(), cache, request, clock=clock, kept=kept
    )


def _source(
    uow: UnitOfWork,
    cache: StateCache,
    *,
    owner: str,
    session_id: uuid.UUID,
    precondition: Precondition,
    rev: int,
    keyed: Keyed | None,
    now: dt.datetime,
) -> _Source | writes.Written:
    with uow:
        stored = answered(uow, owner, keyed, now)
        if stored is not None:
            assert isinstance(stored.body, dict) and stored.rev is not None
            return writes.Written(stored.rev, None, stored.body, replayed=True)
        session = owned(uow, owner=owner, session_id=session_id)
        precondition.check(session.rev)
        encoded = _from_log(uow, cache, session, rev)
        if encoded is not None:
            return _Source(encoded, None)
        snapshot = uow.snapshots.get(session_id, rev)
    return _Source(None, None if snapshot is None else snapshot.key)


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
        state = replayed(state, change.ops)
    return jsonvalue.encode(state)


def _state_of_snapshot(document: bytes | None) -> bytes | None:
    if document is None:
        return None
    parsed = jsonvalue.decode(document)[0]
    state = parsed.get("state") if isinstance(parsed, dict) else None
    return jsonvalue.encode(state) if isinstance(state, dict) else None
