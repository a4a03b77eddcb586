"""The local store's downloads: the signed URL is the only credential."""

from __future__ import annotations

from starlette.responses import Response

from solo.dependencies import Dependencies
from solo.errors import Forbidden, NotFound
from solo.handlers import Answer
from solo.storage.local import ExpiredOrForged


async def download_file(token: str, deps: Dependencies) -> Answer:
    if deps.file_server is None:
        raise NotFound()
    try:
        data = await deps.storage.call(deps.file_server.open_sealed, token)
    except ExpiredOrForged:
        raise Forbidden("This link is expired or was altered.") from None
    except FileNotFoundError:
        raise NotFound() from None
    # The stored document is JSON already: sent as is, not re-serialised.
    return Response(
        data, media_type="application/json", headers={"Cache-Control": "private, no-cache"}
    )
