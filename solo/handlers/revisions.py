"""Handlers of the revisions tag: the change feed, restore, and the event stream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

from connexion import request
from starlette.responses import Response, StreamingResponse

from solo import limits
from solo.dependencies import Dependencies
from solo.domain import preconditions
from solo.domain.errors import NotFound
from solo.domain.jsonvalue import encode, timestamp
from solo.handlers import Answer
from solo.http import conditional
from solo.http.documents import json_answer, write_result
from solo.runtime.revision_feed import GONE, RevisionEvent
from solo.services import changes, restore, streams
from solo.web.validators import parsed_body

_STREAM_HEADERS = {"Cache-Control": "private, no-cache"}


async def list_changes(
    session_id: str, user: str, deps: Dependencies, since: int, limit: int
) -> Answer:
    page = await deps.database.in_database_thread(
        changes.changes_since,
        deps.database.unit_of_work(),
        owner=user,
        session_id=uuid.UUID(session_id),
        since=since,
        limit=limit,
    )
    document = encode({"since": since, "rev": page.session.rev, "more": page.more})
    # Joined once: a page of up to 10 MiB is never copied piece by piece.
    body = b"".join([document[:-1], b',"changes":', *page.parts, b"}"])
    headers = {"ETag": preconditions.etag(page.session.rev)}
    return Response(body, 200, headers=headers, media_type="application/json")


async def restore_session(session_id: str, user: str, deps: Dependencies) -> Answer:
    body, _ = parsed_body(request.scope)
    precondition = conditional.precondition()
    revision = await restore.restore(
        deps.database,
        deps.states,
        deps.store,
        owner=user,
        session_id=uuid.UUID(session_id),
        precondition=precondition,
        rev=body["rev"],
        clock=deps.clock,
        kept=deps.settings.kept_log,
    )
    headers = conditional.written(deps, session_id, revision, precondition)
    return json_answer({**write_result(revision), "restored_from": body["rev"]}, 200, headers)


async def stream_events(session_id: str, user: str, deps: Dependencies) -> Answer:
    session = uuid.UUID(session_id)
    await deps.database.in_database_thread(
        streams.head, deps.database.unit_of_work(), user, session
    )
    return StreamingResponse(
        _events(deps, user, session), media_type="text/event-stream", headers=_STREAM_HEADERS
    )


async def _events(deps: Dependencies, user: str, session_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The current revision, then each new one, with heartbeats, until the session goes.
    Subscribed before the current revision is read, so no revision falls in between."""
    async with deps.feed.subscribed(session_id) as queue:
        try:
            session = await deps.database.in_database_thread(
                streams.head, deps.database.unit_of_work(), user, session_id
            )
        except NotFound:
            return
        last = session.rev
        yield _event(RevisionEvent(session.rev, session.updated_at))
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), limits.EVENTS_HEARTBEAT_SECONDS)
            except TimeoutError:
                yield b": heartbeat\n\n"
                continue
            if event is GONE:
                return
            if event.rev > last:
                last = event.rev
                yield _event(event)


def _event(event: RevisionEvent) -> bytes:
    data = encode({"rev": event.rev, "updated_at": timestamp(event.updated_at)})
    return b"event: rev\nid: %d\ndata: %s\n\n" % (event.rev, data)
