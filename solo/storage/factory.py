"""Choose the blob store that SOLO_STORAGE_URL names."""

from __future__ import annotations

import pathlib

from solo import API_BASE_PATH
from solo.domain.model import Clock
from solo.settings import Settings
from solo.storage import BlobStore
from solo.storage.local import LocalBlobStore

FILES_URL = f"{API_BASE_PATH}/files"


def open_blob_store(settings: Settings, clock: Clock) -> BlobStore:
    scheme, _, location = settings.storage_url.partition("://")
    if scheme == "s3":
        # Imported here: boto3 costs every process's start 50 ms, which only S3 needs.
        from solo.storage.s3 import S3BlobStore

        bucket, _, prefix = location.partition("/")
        prefix = prefix.strip("/")
        return S3BlobStore(bucket, f"{prefix}/" if prefix else "", settings.s3_endpoint_url)
    return LocalBlobStore(
        pathlib.Path(location).resolve(), settings.effective_signing_key, FILES_URL, clock
    )
