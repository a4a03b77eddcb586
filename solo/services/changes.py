"""The change feed: what made each kept rev, as RFC 6902 ops, in order.

A page is cut by the sizes the database reports before any content is loaded, then read in
slices of about CHANGES_SLICE_BYTES: a request holds little more than the page it sends,
however large the changes in the log are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator

from solo import limits
from solo.domain.errors import AheadOfServer, ChangesCompacted, DatabaseUnavailable
from solo.domain.jsonvalue import timestamp
from solo.domain.model import ChangeSize, LoggedChange, Session
from solo.services.ownership import owned
from solo.services.ports import UnitOfWork
from solo.services.states import READ_ATTEMPTS, LogMovedOn

_REPLACE_PREFIX = b'[{"op":"replace","path":"","value":'
_REPLACE_SUFFIX = b"}]"


@dataclasses.dataclass(frozen=True)
class ChangePage:
    session: Session
    parts: list[bytes]
    """The page's changes as a JSON array `[{"rev","at","ops"}, …]`, in pieces to join."""
    more: bool


def changes_since(
    uow: UnitOfWork, *, owner: str, session_id: uuid.UUID, since: int, limit: int
) -> ChangePage:
    """The changes after rev `since`, at most `limit` of them and about a page's bytes;
    read again if the log was compacted meanwhile."""
    for _attempt in range(READ_ATTEMPTS):
        with uow:
            try:
                return _page(uow, owned(uow, owner=owner, session_id=session_id), since, limit)
            except LogMovedOn:
                continue
    raise DatabaseUnavailable("the log moved on under every read")


def _page(uow: UnitOfWork, session: Session, since: int, limit: int) -> ChangePage:
    session_id = session.id
    if since > session.rev:
        raise AheadOfServer(session.rev)
    sizes = uow.log.sizes(session_id, since, session.rev, limit + 1)
    if since < session.rev and (not sizes or sizes[0].rev != since + 1):
        oldest = uow.log.oldest_kept(session_id)
        raise ChangesCompacted(oldest_rev=session.rev if oldest is None else oldest - 1)
    page = _cut(sizes[:limit])
    parts = [b"["]
    for index, piece in enumerate(_contents(uow, session_id, page)):
        parts += [b"," if index else b"", *piece]
    parts.append(b"]")
    return ChangePage(session, parts, more=len(page) < len(sizes))


def _cut(sizes: list[ChangeSize]) -> list[ChangeSize]:
    """The changes that fit in a page's bytes (always the first)."""
    budget = limits.CHANGES_PAGE_BYTES
    for count, change in enumerate(sizes):
        budget -= len(_head(change)) + change.size + _tail_bytes(change) + 1
        if count and budget < 0:
            return sizes[:count]
    return sizes


def _contents(
    uow: UnitOfWork, session_id: uuid.UUID, page: list[ChangeSize]
) -> Iterator[list[bytes]]:
    """Each change of the page as the pieces of its JSON, read a slice at a time."""
    for slice_ in _slices(page):
        ops = uow.log.ops_between(session_id, slice_[0].rev, slice_[-1].rev)
        for change in slice_:
            if change.rev not in ops:
                raise LogMovedOn()
            content = ops.pop(change.rev)
            if content is None:
                content = uow.log.checkpoint(session_id, change.rev)
                if content is None:
                    raise LogMovedOn()
                yield [_head(change), _REPLACE_PREFIX, content, _REPLACE_SUFFIX, b"}"]
            else:
                yield [_head(change), content, b"}"]


def _slices(page: list[ChangeSize]) -> Iterator[list[ChangeSize]]:
    """Runs of consecutive changes of about CHANGES_SLICE_BYTES of ops (whole states are
    read one by one, as checkpoints)."""
    run: list[ChangeSize] = []
    weight = 0
    for change in page:
        weight += 0 if change.whole else change.size
        if run and weight > limits.CHANGES_SLICE_BYTES:
            yield run
            run, weight = [], 0 if change.whole else change.size
        run.append(change)
    if run:
        yield run


def _head(change: ChangeSize) -> bytes:
    return entry_head(change.rev, change.at)


def entry_head(rev: int, at: dt.datetime) -> bytes:
    """The start of a change's JSON `{"rev","at","ops":…}`, up to its ops."""
    return b'{"rev":%d,"at":"%s","ops":' % (rev, timestamp(at).encode())


def entries(changes: list[LoggedChange]) -> bytes:
    """Changes that are patches as a JSON array of `{"rev","at","ops"}`."""
    parts = [
        entry_head(change.rev, change.at) + (change.ops or b"null") + b"}" for change in changes
    ]
    return b"[" + b",".join(parts) + b"]"


def _tail_bytes(change: ChangeSize) -> int:
    return 1 + (len(_REPLACE_PREFIX) + len(_REPLACE_SUFFIX) if change.whole else 0)
