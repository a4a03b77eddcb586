"""`solo serve | token | migrate | gc | backup | restore-backup`."""

from __future__ import annotations

import argparse
import contextlib
import logging.config
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from solo import PROMETHEUS_MULTIPROC_DIR, limits
from solo.runtime import descriptors, logs
from solo.settings import Settings, SettingsError

if TYPE_CHECKING:
    import uvicorn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="solo", description="Solo autosave API server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    token = commands.add_parser("token", help="print a bearer token for a user")
    token.add_argument("user_id")
    token.add_argument("--ttl", type=int, default=limits.TOKEN_TTL_SECONDS, help="seconds")
    commands.add_parser("migrate", help="bring the database schema up to date")
    gc = commands.add_parser("gc", help="collect the snapshots the retention policy lets go")
    gc.add_argument("--dry-run", action="store_true", help="list them, collect nothing")
    backup = commands.add_parser("backup", help="copy the SQLite database while it serves")
    backup.add_argument("destination", help="a file path, or s3://bucket/key")
    restore = commands.add_parser(
        "restore-backup", help="replace the SQLite database with a backup (servers stopped)"
    )
    restore.add_argument("source", help="a file path, or s3://bucket/key")
    args = parser.parse_args(argv)

    logging.config.dictConfig(logs.config())
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"solo: {exc}", file=sys.stderr)
        return 2
    if args.command == "token":
        return _token(settings, args.user_id, args.ttl)
    if args.command == "migrate":
        from solo.db.migrate import upgrade

        upgrade(settings.database_url)
        return 0
    if args.command == "gc":
        from solo.operations import collect_garbage

        return collect_garbage(settings, dry_run=args.dry_run)
    if args.command in ("backup", "restore-backup"):
        from solo.operations import back_up, restore_backup

        if args.command == "backup":
            return back_up(settings, args.destination)
        return restore_backup(settings, args.source)
    return _serve(settings, args.host, args.port, args.workers)


def _token(settings: Settings, user_id: str, ttl: int) -> int:
    from solo.dependencies import utc_now
    from solo.security.bearer import mint_token

    print(mint_token(settings, user_id, ttl, utc_now()))
    return 0


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    try:
        settings.refuse_unsafe_production()
    except SettingsError as exc:
        print(f"solo: {exc}", file=sys.stderr)
        return 2
    with _metrics_folder():
        # Imported only now: prometheus-client chooses its multiprocess mode on import.
        import uvicorn

        from solo.db.migrate import upgrade_sqlite

        if settings.database_url.startswith("sqlite"):
            upgrade_sqlite(settings.database_url)
        # Before the workers start, so that they inherit it: each derives from it how many
        # event streams it may hold (solo/descriptors.py).
        descriptors.raise_to_hard_limit()
        if workers == 1:
            uvicorn.run(**_uvicorn_options(host, port, workers))
            return 0
        return _serve_workers(uvicorn.Config(**_uvicorn_options(host, port, workers)))


def _uvicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    from solo.web.http_protocol import SoloHttpToolsProtocol

    return {
        "app": "solo.web.app:create_app_from_env",
        "host": host,
        "port": port,
        "workers": workers,
        "factory": True,
        "proxy_headers": False,
        "log_config": logs.config(),
        "access_log": False,  # Solo logs each request itself (SOLO_ACCESS_LOG)
        # httptools, with the head bounded and refusals in the error shape (solo/
        # http_protocol.py); uvicorn's h11 option (h11_max_incomplete_event_size) does
        # not apply to it.
        "http": SoloHttpToolsProtocol,
        # No WebSockets (live updates are Server-Sent Events): an upgrade request is
        # an ordinary request, not uvicorn's bare-text 403.
        "ws": "none",
        "timeout_keep_alive": limits.KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": limits.GRACEFUL_SHUTDOWN_SECONDS,
        "lifespan": "on",
    }


def _serve_workers(config: uvicorn.Config) -> int:
    from solo.web.listening import bind_per_worker, run_workers

    try:
        sock = bind_per_worker(config.host, config.port)
    except OSError as exc:
        print(f"solo: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    with sock:
        run_workers(config, sock)
    return 0


@contextlib.contextmanager
def _metrics_folder() -> Iterator[None]:
    """A fresh PROMETHEUS_MULTIPROC_DIR for this server's workers, removed afterwards;
    one the operator set is used as it is."""
    if os.environ.get(PROMETHEUS_MULTIPROC_DIR):
        yield
        return
    folder = tempfile.mkdtemp(prefix="solo-metrics-")
    os.environ[PROMETHEUS_MULTIPROC_DIR] = folder
    try:
        yield
    finally:
        del os.environ[PROMETHEUS_MULTIPROC_DIR]
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
