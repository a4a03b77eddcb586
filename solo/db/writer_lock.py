"""One writer at a time on SQLite, queued without SQLite's sleeping busy handler.

SQLite serialises writers anyway; left to itself, a writer that finds the database
locked sleeps 1, 2, 5 … 100 ms between tries, which puts seconds-long tails on a loaded
server. Threads queue on a lock instead, and processes on an advisory file lock beside
the database, both of which wake the next writer at once.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time

from solo.domain.errors import DatabaseUnavailable

_POLL_SECONDS = 0.0005


class WriterLock:
    def __init__(self, lock_path: str | None, timeout_seconds: float) -> None:
        self._threads = threading.Lock()
        self._lock_path = lock_path
        self._fd: int | None = None
        self._timeout = timeout_seconds

    def acquire(self) -> None:
        """Take the lock (this process's threads, then the file every process shares):
        DatabaseUnavailable past the timeout. `release()` may come from another thread."""
        deadline = time.monotonic() + self._timeout
        if not self._threads.acquire(timeout=self._timeout):
            raise DatabaseUnavailable("the SQLite writer lock is held too long")
        if self._lock_path is None:
            return
        try:
            fd = self._file()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise DatabaseUnavailable(
                            "the SQLite writer lock is held too long"
                        ) from None
                    time.sleep(_POLL_SECONDS)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            if self._lock_path is not None:
                fcntl.flock(self._file(), fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _file(self) -> int:
        if self._fd is None:
            assert self._lock_path is not None
            self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
