"""Who is calling: bearer JWTs, the scoped tokens URLs carry, and sealed tokens.

Refusals are plain exceptions; solo.web.errors answers them (401 and 403)."""

from __future__ import annotations


class CredentialRefused(Exception):
    """No credential, or one that is malformed, forged or expired: `reason` says which
    (`missing`, `invalid`, `expired`)."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message, self.reason = message, reason


class NotThisResource(Exception):
    """A valid scoped credential for another resource (another session's beacon)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
