"""RFC 6901 JSON Pointers, parsed strictly."""

from __future__ import annotations

import re

CANONICAL_INDEX = re.compile(r"0|[1-9][0-9]{0,17}")
"""An array index as RFC 6901 writes it: no sign, no leading zero."""


class BadPointer(ValueError):
    """Not an RFC 6901 pointer."""


def parse(pointer: str) -> tuple[str, ...]:
    """The reference tokens of a pointer; `""` (the whole document) has none."""
    if pointer == "":
        return ()
    if not pointer.startswith("/"):
        raise BadPointer(f"the pointer '{pointer}' must be empty or start with '/'")
    tokens = pointer[1:].split("/")
    for token in tokens:
        if "~" in token and re.search(r"~(?![01])", token):
            raise BadPointer(f"the pointer '{pointer}' has a '~' not followed by 0 or 1")
    return tuple(token.replace("~1", "/").replace("~0", "~") for token in tokens)


def array_index(token: str, length: int, *, allow_end: bool) -> int:
    """The index a token names in an array of `length` items (`-` is the end when allowed)."""
    if token == "-" and allow_end:
        return length
    if not CANONICAL_INDEX.fullmatch(token):
        raise LookupError(f"'{token}' is not an array index")
    index = int(token)
    if index > length or (index == length and not allow_end):
        raise LookupError(f"index {index} is out of range for an array of {length}")
    return index
