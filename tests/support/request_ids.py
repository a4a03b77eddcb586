"""What a request id the server chose looks like."""

from __future__ import annotations

import uuid


def is_fresh_request_id(text: str) -> bool:
    """A version-4 UUID in its canonical form. uuid.UUID alone also parses braces, URNs,
    bare hex and any version, so it would pass an id the client sent (or one echoed)."""
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        return False
    return parsed.version == 4 and str(parsed) == text
