"""Handlers of the usage tag."""

from __future__ import annotations

from solo.dependencies import Dependencies
from solo.handlers import Answer
from solo.services import quota


async def get_usage(user: str, deps: Dependencies) -> Answer:
    used = await deps.database.in_database_thread(
        quota.usage, deps.database.unit_of_work(), owner=user
    )
    quotas = deps.settings.quotas
    return {
        "sessions": {"used": used.sessions, "limit": quotas.sessions},
        "bytes": {"used": used.bytes, "limit": quotas.bytes},
    }, 200
