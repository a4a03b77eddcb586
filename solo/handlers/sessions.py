"""Handlers of the sessions tag: parameters in, one service call, body out."""

from __future__ import annotations

import uuid
from typing import Any

from connexion import NoContent, request
from starlette.responses import Response

from solo.dependencies import Dependencies
from solo.domain import preconditions
from solo.domain.model import Change, Patch, Replace, Session
from solo.handlers import Answer
from solo.http import conditional
from solo.http.bodies import parsed_body
from solo.http.documents import session_document, session_summary
from solo.http.keys import held
from solo.http.urls import absolute_url
from solo.runtime.revision_feed import GONE
from solo.security.bearer import Caller
from solo.services import cleanup, writes
from solo.services import sessions as service

_REVALIDATE = {"Cache-Control": "private, no-cache"}


def _document(
    session: Session, state: bytes, deps: Dependencies, token_info: dict[str, Any], url: str
) -> bytes:
    caller = Caller(token_info["sub"], token_info["exp"])
    beacon, events = (
        deps.session_tokens[purpose].mint(session.id, caller) for purpose in ("beacon", "events")
    )
    return session_document(
        session,
        state,
        beacon_url=f"{url}beacon/?token={beacon}",
        events_url=f"{url}events/?token={events}",
    )


async def list_sessions(
    user: str, deps: Dependencies, limit: int, cursor: str | None = None
) -> Answer:
    page = await deps.database.in_database_thread(
        service.list_sessions, deps.database.unit_of_work(), owner=user, cursor=cursor, limit=limit
    )
    body = {"items": [session_summary(s) for s in page.items], "next_cursor": page.next_cursor}
    return body, 200


async def create_session(user: str, token_info: dict[str, Any], deps: Dependencies) -> Answer:
    body, canonical = parsed_body(request.scope, absent=({}, b""))
    with held(deps, user, body=canonical) as request_key:
        created = await deps.database.in_database_thread(
            service.create_session,
            deps.database.unit_of_work(),
            deps.states,
            owner=user,
            state=body.get("state", {}),
            clock=deps.clock,
            keyed=request_key,
        )
    session = created.session
    location = absolute_url(f"{request.url.path.rstrip('/')}/{session.id}/", deps.settings)
    headers = {
        "Location": location,
        "ETag": preconditions.etag(session.rev),
        **conditional.replayed_header(created.replayed),
    }
    document = _document(session, created.state, deps, token_info, location)
    return Response(document, 201, headers=headers, media_type="application/json")


async def get_session(
    session_id: str, user: str, token_info: dict[str, Any], deps: Dependencies
) -> Answer:
    if_none_match = request.headers.get("If-None-Match")
    session, state = await deps.database.in_database_thread(
        service.get_session,
        deps.database.unit_of_work(),
        deps.states,
        owner=user,
        session_id=uuid.UUID(session_id),
        unless=lambda rev: preconditions.none_match(if_none_match, rev),
    )
    headers = {"ETag": preconditions.etag(session.rev), **_REVALIDATE}
    if state is None:
        return NoContent, 304, headers
    url = absolute_url(request.url.path, deps.settings)
    return Response(
        _document(session, state, deps, token_info, url),
        200,
        headers=headers,
        media_type="application/json",
    )


async def delete_session(session_id: str, user: str, deps: Dependencies) -> Answer:
    precondition = conditional.precondition()
    sid = uuid.UUID(session_id)
    with held(deps, user, body=b"", session_id=sid) as request_key:
        deleted = await deps.database.in_session_thread(
            sid,
            service.delete_session,
            deps.database.unit_of_work(),
            deps.states,
            owner=user,
            session_id=sid,
            precondition=precondition,
            clock=deps.clock,
            keyed=request_key,
        )
    headers = conditional.replayed_header(deleted.prefix is None)
    if precondition.legacy:
        headers["Deprecation"] = "true"
    if deleted.prefix is not None:
        deps.feed.published(sid, GONE)
        await cleanup.remove_objects(deps.store, deleted.prefix)
    return NoContent, 204, headers


async def _write(
    session_id: str, user: str, deps: Dependencies, change: Change, *, body: bytes
) -> Answer:
    sid = uuid.UUID(session_id)
    asked = conditional.precondition()
    base_rev = conditional.base_rev(asked) if isinstance(change, Patch) else None
    with held(deps, user, body=body, session_id=sid) as request_key:
        written = await deps.database.in_session_thread(
            sid,
            writes.write,
            deps.database.unit_of_work(),
            deps.states,
            writes.Write(user, sid, asked, change, keyed=request_key, base_rev=base_rev),
            clock=deps.clock,
            kept=deps.settings.kept_log,
        )
    return conditional.write_answer(deps, sid, written, asked)


async def diff_session(session_id: str, user: str, deps: Dependencies) -> Answer:
    body, canonical = parsed_body(request.scope)
    ops = body["ops"] if isinstance(body, dict) else body
    return await _write(session_id, user, deps, Patch(ops), body=canonical)


async def save_stream(session_id: str, user: str, deps: Dependencies) -> Answer:
    state, encoded = parsed_body(request.scope)
    return await _write(session_id, user, deps, Replace(state, encoded), body=encoded)
