"""Snapshots in a local folder, served by Solo itself at URLs whose token is sealed (see
solo/sealing.py: the storage key it names holds the user id)."""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import tempfile
import time
from collections.abc import Sequence
from urllib.parse import quote

from solo.domain.errors import StorageUnavailable
from solo.domain.model import Clock
from solo.security.sealing import BadSeal, Sealer
from solo.storage import ExpiredOrForged, NoSuchObject

INCOMING = ".incoming"
"""The folder of writes in progress; no key starts with it (keys start with `solo/`)."""


class LocalBlobStore:
    def __init__(
        self, root: pathlib.Path, signing_key: bytes, files_url: str, clock: Clock
    ) -> None:
        self.root = root
        self._incoming = root / INCOMING
        self._sealer = Sealer(signing_key, "file")
        self._files_url = files_url
        self._clock = clock

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._incoming.mkdir(exist_ok=True)
            # Written aside on the same file system, then renamed into place: a process
            # killed halfway leaves its file in `.incoming/` only, for remove_leftovers.
            handle, temporary = tempfile.mkstemp(dir=self._incoming)
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from None
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            # A reader sees the old name or the whole new file, never a part of it.
            os.replace(temporary, path)
        except OSError as exc:
            pathlib.Path(temporary).unlink(missing_ok=True)
            raise StorageUnavailable(str(exc)) from None

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from None

    def url(self, key: str, ttl_seconds: int) -> str:
        expires = int(self._clock().timestamp()) + ttl_seconds
        return f"{self._files_url}/{quote(self._sealer.seal([key, expires]), safe='')}"

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from None

    def delete_many(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.delete(key)

    def remove_leftovers(self, older_than_seconds: float) -> int:
        cutoff = time.time() - older_than_seconds
        removed = 0
        try:
            for leftover in self._incoming.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    if leftover.stat().st_mtime < cutoff:
                        leftover.unlink()
                        removed += 1
        except FileNotFoundError:
            return removed
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from None
        return removed

    def delete_prefix(self, prefix: str) -> None:
        try:
            shutil.rmtree(self._path(prefix.rstrip("/")))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from None

    def check(self) -> None:
        try:
            self._incoming.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=self._incoming)  # noqa: SIM115
            probe.close()
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from None

    def download(self, token: str) -> bytes:
        try:
            key, expires = self._sealer.unseal(token)
        except (BadSeal, ValueError):
            raise ExpiredOrForged() from None
        if not isinstance(expires, int) or expires <= self._clock().timestamp():
            raise ExpiredOrForged()
        try:
            path = self._path(key)
        except ValueError:
            raise NoSuchObject(key) from None
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NoSuchObject(key) from None
        except OSError as exc:
            raise StorageUnavailable(str(exc)) from None

    def _path(self, key: str) -> pathlib.Path:
        # Keys are built from key_segment()s, so no part is "", "." or ".."; refuse anything
        # else outright rather than trust it.
        parts = key.split("/")
        if any(part in {"", ".", ".."} or "\\" in part for part in parts):
            raise ValueError(f"not a store key: {key!r}")
        return self.root.joinpath(*parts)
