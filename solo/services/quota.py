"""Per-user quotas: how many sessions, and how many bytes of states and snapshots.

Each call is made inside the transaction of the write it counts, so what it checks and
what it records commit (or roll back) with that write: racing writes of one user are
counted one at a time on their usage row, and none passes the last slot twice.
"""

from __future__ import annotations

from solo.domain.errors import QuotaExceeded
from solo.domain.model import Session
from solo.domain.quotas import Usage
from solo.services.ports import UnitOfWork


def admit(uow: UnitOfWork, *, owner: str, sessions: int = 0, more_bytes: int = 0) -> None:
    """Count `sessions` more sessions and `more_bytes` more bytes (fewer, when negative)
    for the owner; QuotaExceeded, and nothing counted, when a part that grows would pass
    its quota (sessions are checked first). What shrinks is always accepted: a user over
    a quota (lowered since) can always make room."""
    if not sessions and not more_bytes:
        return
    if uow.usage.charge(owner, sessions=sessions, bytes=more_bytes):
        return
    quotas, used = uow.usage.quotas, uow.usage.of(owner)
    if sessions > 0 and used.sessions + sessions > quotas.sessions:
        raise QuotaExceeded("sessions", limit=quotas.sessions, used=used.sessions)
    raise QuotaExceeded("bytes", limit=quotas.bytes, used=used.bytes)


def admit_session(uow: UnitOfWork, *, owner: str, state_bytes: int) -> None:
    """Count a new session holding `state_bytes` (the owner's first opens their usage)."""
    uow.usage.open(owner)
    admit(uow, owner=owner, sessions=1, more_bytes=state_bytes)


def release_session(uow: UnitOfWork, session: Session) -> None:
    """Give back a session being deleted, with its state and its snapshots (whose rows go
    here: the bytes given back are those of the rows this transaction deleted)."""
    snapshot_bytes = uow.snapshots.remove_all(session.id)
    release(uow, owner=session.owner, sessions=1, fewer_bytes=session.size + snapshot_bytes)


def release(uow: UnitOfWork, *, owner: str, sessions: int = 0, fewer_bytes: int = 0) -> None:
    """Count what left the owner's store (a deleted session, a collected snapshot)."""
    admit(uow, owner=owner, sessions=-sessions, more_bytes=-fewer_bytes)


def usage(uow: UnitOfWork, *, owner: str) -> Usage:
    with uow:
        return uow.usage.of(owner)
