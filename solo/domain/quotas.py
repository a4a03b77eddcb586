"""What one user may store, and what they store."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Quotas:
    """The most one user may hold: sessions, and bytes of states and snapshots."""

    sessions: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class Usage:
    """What one user holds: their sessions, and the bytes of their states (canonical JSON,
    as stored) and of their snapshot documents (claimed ones included)."""

    sessions: int
    bytes: int
