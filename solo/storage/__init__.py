"""Where snapshots live: a blob store of a few verbs, chosen by SOLO_STORAGE_URL.

`BlobStore` is the whole interface: no caller imports an implementation (a local folder,
solo.storage.local; S3, solo.storage.s3), and services use it through `GuardedStore`
(solo.storage.guarded), which runs each call on the store's own threads within a deadline.
A store that does not answer raises solo.domain.errors.StorageUnavailable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class NoSuchObject(Exception):
    """A download names no object this store serves."""


class ExpiredOrForged(Exception):
    """A download token that was tampered with, retargeted or is past its expiry."""


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store `data` at `key` atomically: a reader sees all of it or nothing."""

    def get(self, key: str) -> bytes | None:
        """The object at `key`, or None if there is none."""

    def url(self, key: str, ttl_seconds: int) -> str:
        """A URL that downloads `key` without a bearer token until it expires."""

    def download(self, token: str) -> bytes:
        """The object a download URL's token names, when this server serves the URLs it
        signs (the local store); else NoSuchObject. ExpiredOrForged when the token is."""

    def delete(self, key: str) -> None:
        """Delete the object at `key`, if there is one."""

    def delete_many(self, keys: Sequence[str]) -> None:
        """Delete the objects at these keys, those there are, in as few calls as the store
        allows (S3: one per thousand keys)."""

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object whose key starts with `prefix`."""

    def remove_leftovers(self, older_than_seconds: float) -> int:
        """Remove what writes interrupted longer ago than that left behind (a killed
        process's temporary files); how many were removed."""

    def check(self) -> None:
        """Raise StorageUnavailable unless the store answers."""
