"""What the services that await their dependencies are handed (solo.dependencies has it)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import ParamSpec, Protocol, TypeVar

from solo.db.uow import UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")


class Database(Protocol):
    def unit_of_work(self) -> UnitOfWork: ...

    async def in_database_thread(
        self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run blocking database work off the event loop (503 if no thread takes it)."""
        ...

    async def in_session_thread(
        self, session_id: uuid.UUID, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """The same, for work that may wait on the session's row: a session whose row is
        locked holds only a few threads."""
        ...
