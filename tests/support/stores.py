"""What a snapshot store holds, read from the store itself (the folder, or the S3 bucket
over HTTP), never through Solo's own objects."""

from __future__ import annotations

import pathlib

import boto3

from solo.settings import Settings


def is_local(settings: Settings) -> bool:
    return settings.storage_url.startswith("file://")


def stored_sizes(settings: Settings) -> dict[str, int]:
    """Every object's key (as the store names it) and size."""
    location = settings.storage_url.partition("://")[2]
    if is_local(settings):
        root = pathlib.Path(location)
        return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*.json")}
    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url)
    listing = s3.list_objects_v2(Bucket=location.partition("/")[0])
    return {item["Key"]: item["Size"] for item in listing.get("Contents", [])}


def stored_keys(settings: Settings) -> list[str]:
    return sorted(stored_sizes(settings))


def incoming_folder(settings: Settings) -> pathlib.Path:
    """The local store's folder of writes in progress."""
    return pathlib.Path(settings.storage_url.partition("://")[2]) / ".incoming"
