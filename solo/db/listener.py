"""PostgreSQL LISTEN for revisions that other server processes announce."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import psycopg
from sqlalchemy.engine import make_url

from solo import limits
from solo.db.revisions import REVISIONS_CHANNEL, announced
from solo.runtime.revision_feed import RevisionEvent, event_of

log = logging.getLogger(__name__)


def revision_listener(
    database_url: str,
) -> Callable[[threading.Event, Callable[[uuid.UUID, RevisionEvent], None]], None]:
    """A function that listens on its own connection until `stop` is set, reconnecting
    after a failure, and hands every announced revision to `publish`."""
    conninfo = (
        make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )

    def listen(stop: threading.Event, publish: Callable[[uuid.UUID, RevisionEvent], None]) -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(
                    conninfo, autocommit=True, connect_timeout=limits.DATABASE_WAIT_SECONDS
                ) as connection:
                    connection.execute(f"LISTEN {REVISIONS_CHANNEL}")
                    while not stop.is_set():
                        for notice in connection.notifies(timeout=1.0):
                            session_id, rev, at = announced(notice.payload)
                            publish(session_id, event_of(rev, at))
            except (psycopg.Error, ValueError):
                log.exception("listening for revisions failed; listening again shortly")
                stop.wait(limits.EVENTS_POLL_SECONDS)

    return listen
