"""Sessions, their revisions, and the changes that make one revision out of another."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from solo.domain.jsonvalue import JsonValue

Clock = Callable[[], dt.datetime]
"""Where services read the time (tests hand in a fake one)."""


@dataclasses.dataclass(frozen=True)
class Session:
    """A session without its state: what every read starts from."""

    id: uuid.UUID
    owner: str
    rev: int
    size: int
    """Bytes of the state's canonical JSON at `rev`."""
    created_at: dt.datetime
    updated_at: dt.datetime
    last_seen_at: dt.datetime | None
    checkpoint_rev: int
    """The newest revision whose whole state is stored; the log holds what came after."""
    replay_cost: int
    """Work units of replaying the changes logged since that checkpoint (their ops' bytes
    and the work the patches did): past the state's size, a new checkpoint is cheaper."""
    kept_bytes: int
    """Bytes the session's kept log holds (changes and checkpoints): bounded per session."""
    watched_until: dt.datetime | None = None
    """Until when some server process streams its revisions (writers then announce them)."""

    def watched(self, now: dt.datetime) -> bool:
        return self.watched_until is not None and self.watched_until > now

    def next_rev(self) -> int:
        """The revision a successful write makes: the one place `rev + 1` is computed."""
        return self.rev + 1


@dataclasses.dataclass(frozen=True)
class KeptLog:
    """What each session's change log keeps: its newest `changes` changes, unless they
    (with the checkpoints they start from) hold more than `bytes`; then fewer."""

    changes: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class Revision:
    """What a write answers: the revision it made and when."""

    rev: int
    updated_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Patch:
    """A change made of RFC 6902 ops, applied all or nothing."""

    ops: list[Any]


@dataclasses.dataclass(frozen=True)
class Replace:
    """A change that replaces the whole state (save-stream, restore)."""

    state: JsonValue
    """Any JSON value: anything but an object is refused after the precondition."""
    encoded: bytes
    """Its canonical JSON, already made by the decoder."""


Change = Patch | Replace


@dataclasses.dataclass(frozen=True)
class LoggedChange:
    """The change that made a rev, as the log keeps it."""

    rev: int
    at: dt.datetime
    ops: bytes | None
    """Canonical JSON of the ops; None when the rev replaced the whole state (its
    checkpoint then holds that state)."""


@dataclasses.dataclass(frozen=True)
class ChangeSize:
    """A kept change without its content: what a page of the change feed is cut by."""

    rev: int
    at: dt.datetime
    size: int
    """Bytes of its ops; of its state when it replaced the whole state."""
    whole: bool
    """It replaced the whole state: its content is the checkpoint of its rev."""


@dataclasses.dataclass(frozen=True)
class PageCursor:
    """Keyset position in a user's session list: the last (created_at, id) seen."""

    created_at: dt.datetime
    id: uuid.UUID


@dataclasses.dataclass(frozen=True)
class StoredSnapshot:
    rev: int
    key: str
    size: int
    created_at: dt.datetime
    name: str | None = None
    pinned: bool = False
    """Never collected by the retention policy."""


@dataclasses.dataclass(frozen=True)
class SnapshotClaim:
    """A snapshot whose object is still being written by the request holding `token`."""

    session_id: uuid.UUID
    snapshot: StoredSnapshot
    token: str
    owner: str
    """Whose bytes the claim counts towards."""


@dataclasses.dataclass(frozen=True)
class StoredIdempotencyKey:
    fingerprint: str
    status_code: int | None
    """None while the first request is still running."""
    body: object
    rev: int | None = None
    """The rev a write made."""


@dataclasses.dataclass(frozen=True)
class AnsweredKey:
    """An Idempotency-Key to record with the answer of the write it came with (a 200)."""

    key: str
    fingerprint: str
    body: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Swap:
    """What a one-statement compare-and-swap did: whether it swapped, and the head it found
    (as it was before; None when the session is not the owner's or is gone, the key was
    taken or the quota passed). A swap lost to a write the caller had not seen brings the
    changes the caller lacks: those after the rev it expected, up to the head found, when
    the log keeps them all after a checkpoint no later than that rev (else none)."""

    swapped: bool
    found: Session | None
    missed: tuple[LoggedChange, ...] = ()


@dataclasses.dataclass(frozen=True)
class Compacted:
    """What a compaction of the log did: the bytes it freed, and the rev it cut at (the
    changes up to it are forgotten; None when nothing was)."""

    freed: int
    cut: int | None
