"""Where snapshots live: a blob store of a few verbs, chosen by SOLO_STORAGE_URL."""

from __future__ import annotations

from typing import Protocol


class BlobStore(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store `data` at `key` atomically: a reader sees all of it or nothing."""

    def get(self, key: str) -> bytes | None:
        """The object at `key`, or None if there is none."""

    def url(self, key: str, ttl_seconds: int) -> str:
        """A URL that downloads `key` without a bearer token until it expires."""

    def delete(self, key: str) -> None:
        """Delete the object at `key`, if there is one."""

    def delete_prefix(self, prefix: str) -> None:
        """Delete every object whose key starts with `prefix`."""

    def remove_leftovers(self, older_than_seconds: float) -> int:
        """Remove what writes interrupted longer ago than that left behind (a killed
        process's temporary files); how many were removed."""

    def check(self) -> None:
        """Raise StorageUnavailable unless the store answers."""


class StorageUnavailable(Exception):
    """The store did not answer or refused: vendor errors are translated to this."""


def key_segment(value: str) -> str:
    """One path segment of a key, safe on every store: no `/`, `\\`, `%`, control
    characters, and never `.` or `..`. Other characters, non-ASCII included, stay."""
    encoded = "".join(
        "".join(f"%{byte:02X}" for byte in ch.encode())
        if ch in "/\\%" or ord(ch) < 0x20 or ch == "\x7f"
        else ch
        for ch in value
    )
    return encoded.replace(".", "%2E") if encoded in {".", ".."} else encoded


def snapshot_key(user: str, session_id: str, rev: int) -> str:
    return f"{session_prefix(user, session_id)}{rev}.json"


def session_prefix(user: str, session_id: str) -> str:
    return f"solo/{key_segment(user)}/{session_id}/"
