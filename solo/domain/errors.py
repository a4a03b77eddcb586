"""What can go wrong, in the domain's own terms: plain exceptions with their data.

None of them knows HTTP. `solo.web.errors` is the one table that turns each into the
contract's answer (a status, headers and the error body).

DomainError
├── NotFound               no such session (or snapshot) for this user
├── PreconditionFailed     If-Match (or X-Rev) missing, unparsable, or not the current rev
├── RevMismatch            the legacy X-Rev names another rev than the current one
├── InvalidOps             an op is malformed or cannot apply (nothing was changed)
├── InvalidState           a whole state that is not a JSON object
├── StateTooLarge          a state that would pass the state limit
├── ChangesCompacted       changes asked from before the kept log
├── RevisionUnavailable    a restore names a rev neither the log nor a snapshot rebuilds
├── IdempotencyKeyReused   a key first used for another request
├── IdempotencyInProgress  a key whose first request is still running
├── RebaseConflict         a stale diff meets the changes made since its base
├── InvalidParameter       a value the schema allows but the session does not (a cursor, a base rev)
├── AheadOfServer          changes asked since a rev the session never reached (a restored server)
├── QuotaExceeded          a write that would pass one of the user's quotas
├── ServerFault            the server's own data is inconsistent (never the client's fault)
└── Unavailable            a dependency does not answer in time
    ├── DatabaseUnavailable
    └── StorageUnavailable
"""

from __future__ import annotations

import enum


class DomainError(Exception):
    """An outcome the contract names. `message`, when given, is said to the client instead
    of the answer's usual words."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or type(self).__name__)
        self.message = message


class NotFound(DomainError):
    pass


class Reason(enum.StrEnum):
    """Why a write's precondition failed (the 412 body's `reason`)."""

    MISSING = "missing"
    UNPARSABLE = "unparsable"
    MISMATCH = "mismatch"


class PreconditionFailed(DomainError):
    def __init__(self, reason: Reason, current_rev: int) -> None:
        super().__init__()
        self.reason, self.current_rev = reason, current_rev


class RevMismatch(DomainError):
    def __init__(self, server_rev: int) -> None:
        super().__init__()
        self.server_rev = server_rev


class InvalidOps(DomainError):
    def __init__(self, *, op_index: int, reason: str) -> None:
        super().__init__()
        self.op_index, self.reason = op_index, reason


class InvalidState(DomainError):
    pass


class StateTooLarge(DomainError):
    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit


class ChangesCompacted(DomainError):
    def __init__(self, oldest_rev: int) -> None:
        super().__init__()
        self.oldest_rev = oldest_rev


class RevisionUnavailable(DomainError):
    def __init__(self, rev: int) -> None:
        super().__init__()
        self.rev = rev


class IdempotencyKeyReused(DomainError):
    pass


class IdempotencyInProgress(DomainError):
    pass


class RebaseConflict(DomainError):
    """`reason`: overlap, whole_state, test_failed or too_far; `paths`: the diff's paths
    and the changed ones they meet; `rev`: the session's, once the write path knows it."""

    def __init__(self, reason: str, paths: list[str], rev: int | None = None) -> None:
        super().__init__()
        self.reason, self.paths, self.rev = reason, sorted(set(paths)), rev


class InvalidParameter(DomainError):
    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class AheadOfServer(DomainError):
    """The client holds a rev past the session's current one: the server was restored from
    a backup older than what the client saw."""

    def __init__(self, rev: int) -> None:
        super().__init__()
        self.rev = rev


class QuotaExceeded(DomainError):
    """`quota` (`sessions` or `bytes`) would pass its `limit`; the user uses `used` now."""

    def __init__(self, quota: str, *, limit: int, used: int) -> None:
        super().__init__()
        self.quota, self.limit, self.used = quota, limit, used


class ServerFault(DomainError):
    """The server's own fault, logged where it is found: `detail` is for the log only, the
    client hears that the server failed."""

    def __init__(self, detail: str) -> None:
        super().__init__()
        self.detail = detail


class Unavailable(DomainError):
    """`checks` names each dependency and whether it answered."""

    def __init__(self, checks: dict[str, str], detail: str = "") -> None:
        super().__init__()
        self.checks, self.detail = checks, detail


class DatabaseUnavailable(Unavailable):
    def __init__(self, detail: str = "") -> None:
        super().__init__({"database": "unavailable"}, detail)


class StorageUnavailable(Unavailable):
    def __init__(self, detail: str = "") -> None:
        super().__init__({"storage": "unavailable"}, detail)
