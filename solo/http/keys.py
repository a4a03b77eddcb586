"""A request's Idempotency-Key, and the fingerprint that tells its request from another:
the method, the path (the session's id in its canonical spelling), the precondition's
headers and the body's canonical JSON (any spelling of the same JSON is one request)."""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Iterator

from solo.dependencies import Dependencies
from solo.http import scope as request_scope
from solo.services.idempotency import Keyed

KEY_HEADER = "Idempotency-Key"
_PRECONDITION_HEADERS = ("If-Match", "X-Rev", "Solo-Base-Rev")


@contextlib.contextmanager
def held(
    deps: Dependencies, user: str, *, body: bytes, session_id: uuid.UUID | None = None
) -> Iterator[Keyed | None]:
    """The request's key (None without one), held as running in this process meanwhile: a
    repeat of it here is `409 idempotency_in_progress` until the first is answered."""
    request_key = keyed(body=body, session_id=session_id)
    with deps.keys_in_flight.held(user, None if request_key is None else request_key.key):
        yield request_key


def keyed(*, body: bytes, session_id: uuid.UUID | None = None) -> Keyed | None:
    """The request's key with its fingerprint; None when it came without one."""
    scope = request_scope.current()
    headers = request_scope.headers(scope)
    key = headers.get(KEY_HEADER)
    if key is None:
        return None
    path: str = scope["path"]
    if session_id is not None:
        raw = request_scope.path_parameter(scope, "session_id") or ""
        path = path.replace(raw, str(session_id), 1)
    parts = [scope["method"].encode(), path.encode()]
    parts += [(headers.get(name) or "").strip().encode() for name in _PRECONDITION_HEADERS]
    digest = hashlib.sha256(b"\0".join([*parts, body])).hexdigest()
    return Keyed(key, digest)
