"""Conditional requests (RFC 9110 §13): If-Match, If-None-Match and the legacy X-Rev."""

from __future__ import annotations

import dataclasses
import re

from solo.domain.errors import PreconditionFailed, Reason, RevMismatch

_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')
_REV = re.compile(r"[0-9]{1,18}")


def etag(rev: int) -> str:
    return f'"{rev}"'


@dataclasses.dataclass(frozen=True)
class Precondition:
    """What a write request demands of the session's current revision."""

    problem: Reason | None = None
    any_rev: bool = False
    tags: frozenset[str] = frozenset()
    """Strong entity tags' opaque parts, compared character by character (`"07"` ≠ `"7"`)."""
    legacy: bool = False

    def allows(self, rev: int) -> bool:
        """Whether a session at `rev` satisfies the request."""
        return self.problem is None and (self.any_rev or str(rev) in self.tags)

    def check(self, current_rev: int) -> None:
        """Raise the contract's answer unless `current_rev` satisfies the request."""
        if self.problem is not None:
            raise PreconditionFailed(self.problem, current_rev)
        if self.allows(current_rev):
            return
        if self.legacy:
            raise RevMismatch(current_rev)
        raise PreconditionFailed(Reason.MISMATCH, current_rev)


def from_headers(if_match: str | None, x_rev: str | None) -> Precondition:
    """If-Match wins; X-Rev is read only when If-Match is absent."""
    if if_match is not None:
        return _from_if_match(if_match)
    if x_rev is not None:
        if not _REV.fullmatch(x_rev.strip()):
            return Precondition(problem=Reason.UNPARSABLE, legacy=True)
        return Precondition(tags=frozenset({str(int(x_rev))}), legacy=True)
    return Precondition(problem=Reason.MISSING)


def _from_if_match(value: str) -> Precondition:
    if value.strip() == "*":
        return Precondition(any_rev=True)
    tags = parse_entity_tags(value)
    if tags is None:
        return Precondition(problem=Reason.UNPARSABLE)
    return Precondition(tags=frozenset(tag for weak, tag in tags if not weak))


def parse_entity_tags(value: str) -> list[tuple[bool, str]] | None:
    """`#entity-tag` as (is_weak, opaque) pairs; None when the list is malformed."""
    tags: list[tuple[bool, str]] = []
    for element in value.split(","):
        if not element.strip():
            continue
        match = _ENTITY_TAG.fullmatch(element)
        if match is None:
            return None
        tags.append((match.group(1) is not None, match.group(2)))
    return tags or None


def none_match(if_none_match: str | None, current_rev: int) -> bool:
    """True when If-None-Match matches the current tag (weak comparison, §13.1.2)."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = parse_entity_tags(if_none_match) or []
    return any(tag == str(current_rev) for _weak, tag in tags)
