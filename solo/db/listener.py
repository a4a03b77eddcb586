"""PostgreSQL LISTEN for revisions that other server processes announce."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

from sqlalchemy.engine import make_url

from solo import limits
from solo.db.revisions import REVISIONS_CHANNEL, announced
from solo.runtime.revision_feed import Listen, RevisionEvent, event_of

log = logging.getLogger(__name__)

LISTENER_APPLICATION_NAME = "solo-revision-listener"
"""The listening connection's `application_name`: operators (and tests) find it in
`pg_stat_activity` by it."""


def revision_listener(database_url: str) -> Listen:
    """A function that listens on its own connection until `stop` is set, reconnecting
    after a failure, and hands every announced revision to `publish`. It calls `listening`
    each time LISTEN is in place: NOTIFYs sent while the connection was down are lost, so
    the caller catches up from the database then."""
    # Imported here: psycopg costs every process's start 50 ms, which only PostgreSQL needs.
    import psycopg

    conninfo = (
        make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    keepalive = limits.EVENTS_LISTEN_KEEPALIVE_SECONDS

    def listen(
        stop: threading.Event,
        publish: Callable[[uuid.UUID, RevisionEvent], None],
        listening: Callable[[], None],
    ) -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(
                    conninfo,
                    autocommit=True,
                    connect_timeout=limits.DATABASE_WAIT_SECONDS,
                    application_name=LISTENER_APPLICATION_NAME,
                    keepalives=1,
                    keepalives_idle=keepalive,
                    keepalives_interval=max(1, keepalive // 3),
                    keepalives_count=3,
                ) as connection:
                    connection.execute(f"LISTEN {REVISIONS_CHANNEL}")
                    listening()
                    while not stop.is_set():
                        for notice in connection.notifies(timeout=1.0):
                            session_id, rev, at, ops = announced(notice.payload)
                            publish(session_id, event_of(rev, at, ops))
            except (psycopg.Error, ValueError):
                log.exception("listening for revisions failed; listening again shortly")
                stop.wait(limits.EVENTS_POLL_SECONDS)

    return listen
