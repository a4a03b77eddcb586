"""Snapshots in S3 (or any S3-compatible store) through boto3, with presigned GETs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

from solo import limits
from solo.domain.errors import StorageUnavailable
from solo.storage import NoSuchObject

_VENDOR_ERRORS = (BotoCoreError, ClientError)
_DELETE_OBJECTS_MAX = 1000
"""Most keys one DeleteObjects call may name (S3's limit)."""


class S3BlobStore:
    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            retries={"total_max_attempts": limits.STORAGE_ATTEMPTS, "mode": "standard"},
            connect_timeout=limits.STORAGE_CONNECT_TIMEOUT_SECONDS,
            read_timeout=limits.STORAGE_READ_TIMEOUT_SECONDS,
        )
        self._client = boto3.client("s3", endpoint_url=endpoint_url, config=config)

    def put(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=self.prefix + key,
                Body=data,
                ContentType="application/json",
            )
        except _VENDOR_ERRORS as exc:
            raise StorageUnavailable(_describe(exc)) from None

    def get(self, key: str) -> bytes | None:
        try:
            answer = self._client.get_object(Bucket=self.bucket, Key=self.prefix + key)
            return answer["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise StorageUnavailable(_describe(exc)) from None
        except BotoCoreError as exc:
            raise StorageUnavailable(_describe(exc)) from None

    def url(self, key: str, ttl_seconds: int) -> str:
        try:
            return self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.bucket, "Key": self.prefix + key},
                ExpiresIn=ttl_seconds,
            )
        except _VENDOR_ERRORS as exc:
            raise StorageUnavailable(_describe(exc)) from None

    def download(self, token: str) -> bytes:
        """S3's URLs are presigned for S3 itself: this server serves none of them."""
        raise NoSuchObject(token)

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=self.prefix + key)
        except _VENDOR_ERRORS as exc:
            raise StorageUnavailable(_describe(exc)) from None

    def delete_many(self, keys: Sequence[str]) -> None:
        try:
            for start in range(0, len(keys), _DELETE_OBJECTS_MAX):
                chunk = keys[start : start + _DELETE_OBJECTS_MAX]
                self._delete_objects([{"Key": self.prefix + key} for key in chunk])
        except _VENDOR_ERRORS as exc:
            raise StorageUnavailable(_describe(exc)) from None

    def remove_leftovers(self, older_than_seconds: float) -> int:
        """A PutObject is one request that S3 applies whole: nothing is ever left over."""
        return 0

    def delete_prefix(self, prefix: str) -> None:
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + prefix
            )
            for page in pages:
                keys: list[ObjectIdentifierTypeDef] = [
                    {"Key": item["Key"]} for item in page.get("Contents", [])
                ]
                if keys:
                    self._delete_objects(keys)
        except _VENDOR_ERRORS as exc:
            raise StorageUnavailable(_describe(exc)) from None

    def _delete_objects(self, keys: list[ObjectIdentifierTypeDef]) -> None:
        """One DeleteObjects call; S3 answers 200 even when it deleted only some keys, and
        names the others under `Errors`."""
        answer = self._client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": keys, "Quiet": True}
        )
        errors = answer.get("Errors", [])
        if errors:
            first = errors[0]
            raise StorageUnavailable(
                f"S3 did not delete {len(errors)} of {len(keys)} objects "
                f"({first.get('Code')}: {first.get('Message')})"
            )

    def check(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except _VENDOR_ERRORS as exc:
            raise StorageUnavailable(_describe(exc)) from None


def _describe(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return f"S3 answered {exc.response.get('Error', {}).get('Code', 'an error')}"
    return type(exc).__name__
