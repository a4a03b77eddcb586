"""Request ids: echoed when a client sends a sane one, else fresh."""

from __future__ import annotations

import random
import re
import uuid

from solo import limits

REQUEST_ID_HEADER = "X-Request-ID"

_SANE_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:-]{{1,{limits.REQUEST_ID_MAX_LENGTH}}}")


def fresh_request_id() -> str:
    """A random version-4 UUID. A request id is a correlation label, not a secret: it is
    drawn from `random`, which, unlike uuid4's os.urandom, never leaves the event loop's
    thread for a system call."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


def is_sane(incoming: str) -> bool:
    """Whether a client's X-Request-ID may be echoed (and logged) as it is."""
    return _SANE_REQUEST_ID.fullmatch(incoming) is not None
