"""The local store's downloads: the signed URL is the only credential."""

from __future__ import annotations

from starlette.responses import Response

from solo.dependencies import Dependencies
from solo.handlers import Answer


async def download_file(token: str, deps: Dependencies) -> Answer:
    # An S3 store answers NoSuchObject (404): its URLs point at S3 itself; a forged or
    # expired token is ExpiredOrForged (403).
    data = await deps.store.download(token)
    # The stored document is JSON already: sent as is, not re-serialised.
    return Response(
        data, media_type="application/json", headers={"Cache-Control": "private, no-cache"}
    )
