"""`solo serve | token | migrate`."""

from __future__ import annotations

import argparse
import copy
import logging
import sys

from solo import limits
from solo.settings import Settings, SettingsError


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
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
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
    return _serve(settings, args.host, args.port, args.workers)


def _token(settings: Settings, user_id: str, ttl: int) -> int:
    from solo.auth import mint_token
    from solo.dependencies import utc_now

    print(mint_token(settings, user_id, ttl, utc_now()))
    return 0


def _serve(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    from solo.db.migrate import upgrade
    from solo.http_protocol import SoloHttpToolsProtocol

    if settings.database_url.startswith("sqlite"):
        upgrade(settings.database_url)
    uvicorn.run(
        "solo.app:create_app_from_env",
        host=host,
        port=port,
        workers=workers,
        factory=True,
        proxy_headers=False,
        log_config=_log_config(),
        # httptools, with the head bounded and refusals in the error shape (solo/
        # http_protocol.py); uvicorn's h11 option (h11_max_incomplete_event_size) does not
        # apply to it.
        http=SoloHttpToolsProtocol,
        timeout_keep_alive=limits.KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=limits.GRACEFUL_SHUTDOWN_SECONDS,
        lifespan="on",
    )
    return 0


def _log_config() -> dict:
    """uvicorn's logging, plus Solo's own records, in every worker process."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["solo"] = {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    config["handlers"]["solo"] = {
        "class": "logging.StreamHandler",
        "formatter": "solo",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["solo"] = {"handlers": ["solo"], "level": "INFO", "propagate": False}
    return config


if __name__ == "__main__":
    sys.exit(main())
