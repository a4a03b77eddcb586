"""The revision listeners' PostgreSQL connections, found by their application_name, to
take them down as a failover or a network fault would."""

from __future__ import annotations

import time

import psycopg
from sqlalchemy.engine import make_url

from solo.db.listener import LISTENER_APPLICATION_NAME

_LISTENERS = """
    SELECT pid FROM pg_stat_activity
    WHERE application_name = %s AND datname = current_database() AND pid <> pg_backend_pid()
"""


class Listeners:
    def __init__(self, database_url: str) -> None:
        conninfo = (
            make_url(database_url)
            .set(drivername="postgresql")
            .render_as_string(hide_password=False)
        )
        self._connection = psycopg.connect(conninfo, autocommit=True)

    def pids(self) -> list[int]:
        rows = self._connection.execute(_LISTENERS, (LISTENER_APPLICATION_NAME,))
        return sorted(row[0] for row in rows)

    def terminate(self) -> int:
        """pg_terminate_backend on every listener of the database; how many there were."""
        pids = self.pids()
        for pid in pids:
            self._connection.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return len(pids)

    def wait_for(self, count: int, seconds: float) -> list[int]:
        """The pids once `count` listeners are connected (AssertionError after `seconds`)."""
        deadline = time.monotonic() + seconds
        while len(pids := self.pids()) < count:
            assert time.monotonic() < deadline, f"{len(pids)} of {count} listeners are back"
            time.sleep(0.05)
        return pids

    def close(self) -> None:
        self._connection.close()
