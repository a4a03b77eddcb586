"""Handlers of the revisions tag: the change feed, restore, and the event stream."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

from connexion import request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from solo import limits
from solo.dependencies import Dependencies
from solo.domain import preconditions
from solo.domain.errors import NotFound
from solo.domain.jsonvalue import encode, timestamp, with_members
from solo.handlers import Answer
from solo.http import conditional
from solo.http.bodies import parsed_body
from solo.http.keys import held
from solo.runtime.revision_feed import GONE, SHUT_DOWN, RevisionEvent
from solo.runtime.stream_slots import Slot, StreamSlots
from solo.services import changes, restore, streams

_EVENT_STREAM = "text/event-stream"
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
    body, canonical = parsed_body(request.scope)
    precondition = conditional.precondition()
    sid = uuid.UUID(session_id)
    with held(deps, user, body=canonical, session_id=sid) as request_key:
        written = await restore.restore(
            deps.database,
            deps.states,
            deps.store,
            owner=user,
            session_id=sid,
            precondition=precondition,
            rev=body["rev"],
            clock=deps.clock,
            kept=deps.settings.kept_log,
            keyed=request_key,
        )
    return conditional.write_answer(
        deps, sid, written, precondition, more={"restored_from": body["rev"]}
    )


async def stream_events(
    session_id: str, user: str, token_info: dict[str, Any], deps: Dependencies
) -> Answer:
    """The session's event stream, once a slot is free for it; HEAD: the headers alone."""
    session = uuid.UUID(session_id)
    await deps.database.in_database_thread(
        streams.head, deps.database.unit_of_work(), user, session
    )
    slot = await deps.stream_slots.take(user, session)
    if request.method == "HEAD":
        await deps.stream_slots.give_back(slot)
        return StreamingResponse((), media_type=_EVENT_STREAM, headers=_STREAM_HEADERS)
    events = _events(deps, user, session, expires_at=token_info["exp"])
    return _EventStream(events, slot, deps.stream_slots)


class _EventStream(StreamingResponse):
    """The stream, which gives its slot back however it ends (its client gone included)."""

    def __init__(self, events: AsyncIterator[bytes], slot: Slot, slots: StreamSlots) -> None:
        super().__init__(events, media_type=_EVENT_STREAM, headers=_STREAM_HEADERS)
        self._slot, self._slots = slot, slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._slots.give_back(self._slot)


async def _events(
    deps: Dependencies, user: str, session_id: uuid.UUID, *, expires_at: float
) -> AsyncIterator[bytes]:
    """The current revision, then each new one, with heartbeats, until the session is
    deleted or the credential expires at `expires_at` (Unix time; each said in a last
    event), or the process shuts down. Subscribed before the current revision is read, so
    no revision falls between."""
    async with deps.feed.subscribed(session_id) as queue:
        try:
            session = await deps.database.in_database_thread(
                streams.head, deps.database.unit_of_work(), user, session_id
            )
        except NotFound:
            yield _deleted(session_id)
            return
        last = session.rev
        yield _RETRY + _revision(RevisionEvent(session.rev, session.updated_at))
        while True:
            left = expires_at - deps.clock().timestamp()
            if left <= 0:
                yield _expired(expires_at)
                return
            try:
                event = await asyncio.wait_for(
                    queue.get(), min(left, limits.EVENTS_HEARTBEAT_SECONDS)
                )
            except TimeoutError:
                if left > limits.EVENTS_HEARTBEAT_SECONDS:
                    yield b": heartbeat\n\n"
                continue
            if event is SHUT_DOWN:
                return
            if event is GONE:
                yield _deleted(session_id)
                return
            if event.rev > last:
                last = event.rev
                yield _revision(event)


_RETRY = b"retry: %d\n" % limits.EVENTS_RETRY_MILLISECONDS


def _revision(event: RevisionEvent) -> bytes:
    document = {"rev": event.rev, "updated_at": timestamp(event.updated_at)}
    data = encode(document) if event.ops is None else with_members(document, ops=event.ops)
    return b"event: rev\nid: %d\ndata: %s\n\n" % (event.rev, data)


def _expired(expires_at: float) -> bytes:
    """Said once `expires_at` has passed: a time that exists (a token's `exp` may name a
    year no datetime holds)."""
    at = dt.datetime.fromtimestamp(expires_at, dt.UTC)
    return b"event: expired\ndata: %s\n\n" % encode({"expires_at": timestamp(at)})


def _deleted(session_id: uuid.UUID) -> bytes:
    return b"event: deleted\ndata: %s\n\n" % encode({"id": str(session_id)})
