"""A per-process cache of materialised session states, keyed by session and rev.

An entry holds one session's state as of `rev`, and its canonical JSON once something
asked for it. The database decides: an entry older than the session's rev is caught up
from the revision log, and an entry is only ever changed under its lock, which writers
hold across their transaction. Least recently used entries go first when the cache
passes its budget; an entry in use may leave the cache, its holder finishes with it alone.

An entry also holds the newest changes that led to its rev, as far back as this process
saw them made one after another (within RECENT_CHANGES_HELD and its bytes): what a rebase
moves a diff over, without reading the log.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import uuid
from collections.abc import Sequence

from solo import limits
from solo.domain.jsonvalue import JsonValue
from solo.domain.model import LoggedChange, Session


@dataclasses.dataclass(eq=False)
class Entry:
    session_id: uuid.UUID
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    head: Session | None = None
    """The session as of the rev `state` is at; None until loaded. It is the database's
    head of that rev, except for what changes without a new rev (last_seen_at, watches)."""
    state: dict[str, JsonValue] | None = None
    encoded: tuple[int, bytes] | None = None
    """(rev, canonical JSON of the state at that rev); may be read without the lock."""
    recent: collections.deque[LoggedChange] = dataclasses.field(default_factory=collections.deque)
    """The changes that made the newest revs up to `rev`, one after another, oldest first."""
    recent_bytes: int = 0

    @property
    def rev(self) -> int | None:
        return None if self.head is None else self.head.rev

    @property
    def footprint(self) -> int:
        held = self.head.size if self.head is not None and self.state is not None else 0
        encoded = len(self.encoded[1]) if self.encoded is not None else 0
        return held + encoded + self.recent_bytes

    def changes_after(self, rev: int) -> list[LoggedChange] | None:
        """The changes that made the revs after `rev` up to the entry's, if it holds them
        all; else None (read them from the log)."""
        if self.rev is None or not self.recent or self.recent[0].rev > rev + 1:
            return None
        return [change for change in self.recent if change.rev > rev]


class StateCache:
    def __init__(self, budget_bytes: int) -> None:
        self.budget_bytes = budget_bytes
        """Canonical JSON bytes held in all (the Python objects take several times that)."""
        self._entries: collections.OrderedDict[uuid.UUID, Entry] = collections.OrderedDict()
        self._held = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        """Uses of a state found at the session's rev, and uses that had to load it (counted
        without a lock: a metric, not an invariant)."""

    def entry(self, session_id: uuid.UUID) -> Entry:
        """The session's entry, made if absent; marked as the most recently used."""
        with self._lock:
            entry = self._entries.get(session_id)
            if entry is None:
                entry = self._entries[session_id] = Entry(session_id)
            else:
                self._entries.move_to_end(session_id)
            return entry

    def hold(
        self,
        entry: Entry,
        head: Session,
        state: dict[str, JsonValue],
        *,
        made_by: Sequence[LoggedChange] = (),
        oldest_kept: int = 0,
    ) -> None:
        """The entry now holds the state as of `head.rev` (an encoding of another rev goes).
        `made_by`: the changes that took it there from its rev, when known (its recent
        changes then go on from them; else they start again), of which the log keeps none
        before `oldest_kept`."""
        before = entry.footprint
        _recent(entry, head.rev, made_by, oldest_kept)
        entry.head, entry.state = head, state
        if entry.encoded is not None and entry.encoded[0] != head.rev:
            entry.encoded = None
        self._resized(entry, before)

    def hold_encoded(self, entry: Entry, rev: int, encoded: bytes) -> None:
        before = entry.footprint
        entry.encoded = (rev, encoded)
        self._resized(entry, before)

    def forget(self, entry: Entry) -> None:
        """Drop what the entry holds: its next use loads the session from the database."""
        before = entry.footprint
        entry.head, entry.state, entry.encoded = None, None, None
        entry.recent.clear()
        entry.recent_bytes = 0
        self._resized(entry, before)

    def discard(self, session_id: uuid.UUID) -> None:
        with self._lock:
            entry = self._entries.pop(session_id, None)
            if entry is not None:
                self._held -= entry.footprint

    def _resized(self, entry: Entry, before: int) -> None:
        with self._lock:
            if self._entries.get(entry.session_id) is not entry:
                return
            self._held += entry.footprint - before
            while self._held > self.budget_bytes and len(self._entries) > 1:
                _, oldest = self._entries.popitem(last=False)
                self._held -= oldest.footprint


def _recent(entry: Entry, rev: int, made_by: Sequence[LoggedChange], oldest_kept: int) -> None:
    """The entry's recent changes once `made_by` took it to `rev`, within their bounds."""
    follows = bool(made_by) and entry.rev is not None and made_by[0].rev == entry.rev + 1
    if not (follows and made_by[-1].rev == rev):
        entry.recent.clear()
        entry.recent_bytes = 0
        if not made_by or made_by[-1].rev != rev:
            return
    for change in made_by:
        entry.recent.append(change)
        entry.recent_bytes += len(change.ops or b"")
    while entry.recent and (
        len(entry.recent) > limits.RECENT_CHANGES_HELD
        or entry.recent_bytes > limits.RECENT_CHANGES_HELD_BYTES
        or entry.recent[0].rev < oldest_kept
    ):
        entry.recent_bytes -= len(entry.recent.popleft().ops or b"")
