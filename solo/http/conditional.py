"""What every write handler reads and answers about revisions: the request's precondition,
and the new revision's headers, after publishing it to the session's event streams."""

from __future__ import annotations

import uuid

from connexion import request

from solo.dependencies import Dependencies
from solo.domain import preconditions
from solo.domain.model import Revision
from solo.runtime.revision_feed import RevisionEvent


def precondition() -> preconditions.Precondition:
    return preconditions.from_headers(request.headers.get("If-Match"), request.headers.get("X-Rev"))


def written(
    deps: Dependencies,
    session_id: str,
    revision: Revision,
    asked: preconditions.Precondition,
) -> dict[str, str]:
    """Publishes the revision to this process's streams; answers its headers."""
    deps.feed.published(uuid.UUID(session_id), RevisionEvent(revision.rev, revision.updated_at))
    headers = {"ETag": preconditions.etag(revision.rev)}
    if asked.legacy:
        headers["Deprecation"] = "true"
    return headers
