"""What the command line does besides serving: collect the snapshots the retention policy
lets go, and back up and restore the embedded database."""

from __future__ import annotations

import asyncio
import pathlib
import sys
import tempfile

from solo.db.backup import BackupError, sqlite_path
from solo.db.backup import back_up as copy_database
from solo.db.backup import restore as restore_database
from solo.db.migrate import upgrade
from solo.dependencies import Dependencies, utc_now
from solo.domain.errors import StorageUnavailable
from solo.domain.jsonvalue import timestamp
from solo.services import cleanup, retention
from solo.settings import Settings
from solo.storage import backups


def collect_garbage(settings: Settings, *, dry_run: bool) -> int:
    """List (and unless `dry_run`, collect) every snapshot the policy lets go now, one line
    each: when it was made, its bytes, its key; then the total on stderr. Collected
    objects leave the store before this returns, or with the servers' sweep if the store
    does not answer."""
    deps = Dependencies.build(settings)
    count = size = 0
    try:
        for snapshot in retention.review_all(
            deps.database.unit_of_work, settings.retention, utc_now(), collect=not dry_run
        ):
            print(f"{timestamp(snapshot.created_at)}\t{snapshot.size}\t{snapshot.key}")
            count, size = count + 1, size + snapshot.size
        if not dry_run:
            asyncio.run(_remove_recorded_objects(deps))
    finally:
        deps.close()
    verb = "would go" if dry_run else "collected"
    print(f"{count} snapshots ({size} bytes) {verb}", file=sys.stderr)
    return 0


async def _remove_recorded_objects(deps: Dependencies) -> None:
    while await cleanup.sweep(deps.database, deps.store, utc_now):
        pass


def back_up(settings: Settings, destination: str) -> int:
    """A consistent copy of the embedded database, taken while it serves."""
    try:
        source = sqlite_path(settings.database_url)
        if not backups.is_s3(destination):
            copy_database(source, pathlib.Path(destination))
        else:
            with tempfile.TemporaryDirectory() as folder:
                copy = pathlib.Path(folder) / "solo.db"
                copy_database(source, copy)
                backups.upload(copy, destination, settings.s3_endpoint_url)
    except (BackupError, StorageUnavailable, ValueError) as exc:
        print(f"solo: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {source} to {destination}", file=sys.stderr)
    return 0


def restore_backup(settings: Settings, source: str) -> int:
    """Replace the embedded database with a backup, then bring its schema up to date. Every
    server process must be stopped first (their caches would not see the change)."""
    try:
        destination = sqlite_path(settings.database_url)
        if not backups.is_s3(source):
            restore_database(pathlib.Path(source), destination)
        else:
            with tempfile.TemporaryDirectory() as folder:
                copy = pathlib.Path(folder) / "solo.db"
                backups.download(source, copy, settings.s3_endpoint_url)
                restore_database(copy, destination)
    except (BackupError, StorageUnavailable, ValueError) as exc:
        print(f"solo: {exc}", file=sys.stderr)
        return 1
    upgrade(settings.database_url)
    print(f"restored {destination} from {source}", file=sys.stderr)
    return 0
