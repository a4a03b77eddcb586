"""Handlers of the sessions tag: parameters in, one service call, body out."""

from __future__ import annotations

import uuid

from connexion import NoContent, request

from solo.auth import Caller
from solo.dependencies import Dependencies
from solo.handlers.representations import session_document, session_summary, write_result
from solo.handlers.urls import absolute_url
from solo.services import preconditions
from solo.services import sessions as service
from solo.validators import deferred_error

_REVALIDATE = {"Cache-Control": "private, no-cache"}


def _precondition() -> preconditions.Precondition:
    return preconditions.from_headers(request.headers.get("If-Match"), request.headers.get("X-Rev"))


def _written_headers(rev: int, precondition: preconditions.Precondition) -> dict[str, str]:
    headers = {"ETag": preconditions.etag(rev)}
    if precondition.legacy:
        headers["Deprecation"] = "true"
    return headers


def list_sessions(user: str, deps: Dependencies, limit: int, cursor: str | None = None):
    page = service.list_sessions(deps.unit_of_work(), user, cursor, limit)
    body = {"items": [session_summary(s) for s in page.items], "next_cursor": page.next_cursor}
    return body, 200


def _refuse_deferred(
    session_id: str, user: str, deps: Dependencies, precondition: preconditions.Precondition
) -> None:
    """A body that breaks a part the spec checks after the precondition (§6 order)."""
    error = deferred_error(request.scope)
    if error is not None:
        service.check_precondition(deps.unit_of_work(), user, uuid.UUID(session_id), precondition)
        raise error


def _document(stored, deps: Dependencies, token_info: dict, session_url: str) -> dict:
    token = deps.beacon_tokens.mint(stored.id, Caller(token_info["sub"], token_info["exp"]))
    return session_document(stored, beacon_url=f"{session_url}beacon/?token={token}")


def create_session(user: str, token_info: dict, deps: Dependencies, body: dict | None = None):
    state = (body or {}).get("state", {})
    stored = service.create_session(deps.unit_of_work(), user, state, deps.clock)
    location = absolute_url(f"{request.url.path.rstrip('/')}/{stored.id}/", deps)
    headers = {"Location": location, "ETag": preconditions.etag(stored.rev)}
    return _document(stored, deps, token_info, location), 201, headers


def get_session(session_id: str, user: str, token_info: dict, deps: Dependencies):
    stored = service.get_session(deps.unit_of_work(), user, uuid.UUID(session_id))
    headers = {"ETag": preconditions.etag(stored.rev), **_REVALIDATE}
    if preconditions.none_match(request.headers.get("If-None-Match"), stored.rev):
        return NoContent, 304, headers
    session_url = absolute_url(request.url.path, deps)
    return _document(stored, deps, token_info, session_url), 200, headers


def delete_session(session_id: str, user: str, deps: Dependencies):
    precondition = _precondition()
    service.delete_session(
        deps.unit_of_work(), deps.blob_store, user, uuid.UUID(session_id), precondition
    )
    headers = {"Deprecation": "true"} if precondition.legacy else {}
    return NoContent, 204, headers


def diff_session(session_id: str, body: dict | list, user: str, deps: Dependencies):
    precondition = _precondition()
    _refuse_deferred(session_id, user, deps, precondition)
    ops = body["ops"] if isinstance(body, dict) else body
    stored = service.apply_diff(
        deps.unit_of_work(), user, uuid.UUID(session_id), ops, precondition, deps.clock
    )
    return write_result(stored), 200, _written_headers(stored.rev, precondition)


def save_stream(session_id: str, user: str, deps: Dependencies, body: object = None):
    precondition = _precondition()
    _refuse_deferred(session_id, user, deps, precondition)
    stored = service.replace_state(
        deps.unit_of_work(), user, uuid.UUID(session_id), body, precondition, deps.clock
    )
    return write_result(stored), 200, _written_headers(stored.rev, precondition)
