"""Handlers of the snapshots tag."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from connexion import NoContent, request
from starlette.responses import Response

from solo.dependencies import Dependencies
from solo.domain.jsonvalue import timestamp
from solo.domain.model import StoredSnapshot
from solo.handlers import Answer
from solo.http.bodies import parsed_body
from solo.http.conditional import replayed_header
from solo.http.documents import session_summary
from solo.http.keys import keyed
from solo.http.urls import absolute_url
from solo.services import cleanup, exports, idempotency, retention
from solo.services import snapshots as service


def _link(snapshot: StoredSnapshot, deps: Dependencies) -> dict[str, Any]:
    ttl = deps.settings.signed_url_ttl
    # Taken before the URL is signed, whole seconds down: the URL lives at least this long.
    expires_at = deps.clock().replace(microsecond=0) + dt.timedelta(seconds=ttl)
    return {
        "rev": snapshot.rev,
        "url": absolute_url(deps.store.url(snapshot.key, ttl), deps.settings),
        "expires_at": timestamp(expires_at),
        "name": snapshot.name,
        "pinned": snapshot.pinned,
    }


def _summary(snapshot: StoredSnapshot) -> dict[str, Any]:
    return {
        "rev": snapshot.rev,
        "created_at": timestamp(snapshot.created_at),
        "size": snapshot.size,
        "name": snapshot.name,
        "pinned": snapshot.pinned,
    }


async def create_snapshot(session_id: str, user: str, deps: Dependencies) -> Answer:
    sid = uuid.UUID(session_id)

    async def work() -> tuple[int, dict[str, Any]]:
        snapshot, written = await service.take_snapshot(
            deps.database,
            deps.states,
            deps.store,
            writes=deps.snapshot_writes,
            owner=user,
            session_id=sid,
            clock=deps.clock,
        )
        return (201 if written else 200), _link(snapshot, deps)

    request_key = keyed(body=b"", session_id=sid)
    if request_key is None:
        status, body = await work()
        return body, status
    outcome = await idempotency.once(
        deps.database, owner=user, keyed=request_key, clock=deps.clock, work=work
    )
    return outcome.body, outcome.status, replayed_header(outcome.replayed)


async def get_latest_snapshot(session_id: str, user: str, deps: Dependencies) -> Answer:
    snapshot = await deps.database.in_database_thread(
        service.latest_snapshot,
        deps.database.unit_of_work(),
        owner=user,
        session_id=uuid.UUID(session_id),
    )
    return _link(snapshot, deps), 200


async def get_snapshot(session_id: str, rev: int, user: str, deps: Dependencies) -> Answer:
    snapshot = await deps.database.in_database_thread(
        service.snapshot_of_rev,
        deps.database.unit_of_work(),
        owner=user,
        session_id=uuid.UUID(session_id),
        rev=rev,
    )
    return _link(snapshot, deps), 200


async def label_snapshot(session_id: str, rev: int, user: str, deps: Dependencies) -> Answer:
    labels, _ = parsed_body(request.scope)
    snapshot = await deps.database.in_database_thread(
        retention.label_snapshot,
        deps.database.unit_of_work(),
        owner=user,
        session_id=uuid.UUID(session_id),
        rev=rev,
        labels=labels,
    )
    return _summary(snapshot), 200


async def delete_snapshot(session_id: str, rev: int, user: str, deps: Dependencies) -> Answer:
    removed = await deps.database.in_database_thread(
        retention.delete_snapshot,
        deps.database.unit_of_work(),
        owner=user,
        session_id=uuid.UUID(session_id),
        rev=rev,
        clock=deps.clock,
    )
    deps.metrics.collected("deleted", [removed.snapshot.size])
    await cleanup.remove_object(deps.database, deps.store, removed.snapshot.key, removed.recorded)
    return NoContent, 204


async def list_snapshots(
    session_id: str, user: str, deps: Dependencies, limit: int, before_rev: int | None = None
) -> Answer:
    page = await deps.database.in_database_thread(
        service.list_snapshots,
        deps.database.unit_of_work(),
        owner=user,
        session_id=uuid.UUID(session_id),
        limit=limit,
        before_rev=before_rev,
    )
    return {
        "items": [_summary(s) for s in page.items],
        "next_before_rev": page.next_before_rev,
    }, 200


async def export_session(session_id: str, user: str, deps: Dependencies) -> Answer:
    session, state, snapshots = await deps.database.in_database_thread(
        exports.export_session,
        deps.database.unit_of_work(),
        deps.states,
        owner=user,
        session_id=uuid.UUID(session_id),
    )
    disposition = f'attachment; filename="solo-session-{session.id}.json"'
    body = exports.fit_export(
        {"session": session_summary(session)}, state, [_summary(s) for s in snapshots]
    )
    return Response(
        body, media_type="application/json", headers={"Content-Disposition": disposition}
    )
