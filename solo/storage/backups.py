"""Backup files to and from S3 (`s3://bucket/key`), or a local path."""

from __future__ import annotations

import pathlib

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from solo.domain.errors import StorageUnavailable


def is_s3(location: str) -> bool:
    return location.startswith("s3://")


def upload(path: pathlib.Path, location: str, endpoint_url: str | None) -> None:
    bucket, key = _bucket_and_key(location)
    try:
        boto3.client("s3", endpoint_url=endpoint_url).upload_file(str(path), bucket, key)
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable(f"{location}: {exc}") from None


def download(location: str, path: pathlib.Path, endpoint_url: str | None) -> None:
    bucket, key = _bucket_and_key(location)
    try:
        boto3.client("s3", endpoint_url=endpoint_url).download_file(bucket, key, str(path))
    except (BotoCoreError, ClientError) as exc:
        raise StorageUnavailable(f"{location}: {exc}") from None


def _bucket_and_key(location: str) -> tuple[str, str]:
    bucket, _, key = location.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise ValueError(f"{location!r} is not s3://bucket/key")
    return bucket, key
