"""Baseline (b): the diff as a plain Starlette app would write it, without the contract layer.

`PATCH /api/v1/solo/sessions/{id}/diff/` verifies the bearer JWT with PyJWT (HS256, the
same secret as Solo), parses the JSON body, then, in Starlette's thread pool
(`run_in_threadpool`, since SQLAlchemy is synchronous), reads the row, applies the ops with
`jsonpatch` (in place: the state was just read) and writes back with the compare-and-swap
`UPDATE bench_sessions SET state=?, rev=rev+1 WHERE id=? AND owner=? AND rev=?`, retrying a
lost race when `If-Match` is `*`, up to `CAS_RETRIES` times: enough that 16 writers on one
session never see a 412, which `*` must never answer. It answers
`{"rev", "updated_at"}` with the `ETag`. No spec validation, rate limit, body limit, request
id or error shapes: what is left is the cost of HTTP, JSON, JWT, jsonpatch and the database.

It owns its table, `bench_sessions` (created by `create_schema`, seeded and read by the
harness), in the same database as Solo's; the engine is configured like Solo's (SQLite WAL
at `synchronous=FULL`, compact UTF-8 JSON, a pool of 10+10 with pre-ping) so only the
layers above it differ.
Run: `python -m bench.baseline_app [--workers N] [--port P]` with BENCH_DATABASE_URL and
BENCH_JWT_SECRET set. It is served as `solo serve` is, so that only the app differs: uvicorn
with httptools, its workers each on a socket of their own (solo/web/listening.py). uvicorn's
own multi-worker socket has two handicaps the comparison must not give this app and not
Solo: connections opened at once often all went to one worker, and asyncio left Nagle's
algorithm on for it (each answer waited 40 ms for a delayed acknowledgement); a socket per
worker, opened as TCP, has neither.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import uuid

import jsonpatch
import jwt
import sqlalchemy as sa
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from solo.web.listening import bind_per_worker, run_workers

CAS_RETRIES = 100
TABLE = sa.Table(
    "bench_sessions",
    sa.MetaData(),
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("owner", sa.String(255), nullable=False),
    sa.Column("state", sa.JSON, nullable=False),
    sa.Column("rev", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
)


class Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


def make_engine(url: str) -> sa.Engine:
    compact = {
        "json_serializer": lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    }
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **compact)
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, **compact
    )

    @sa.event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        # SQLite's own default, and Solo's: a commit syncs before it returns.
        dbapi_connection.execute("PRAGMA synchronous=FULL")

    return engine


def create_schema(engine: sa.Engine) -> None:
    TABLE.metadata.create_all(engine)


def insert_sessions(engine: sa.Engine, owners: list[str], state: dict) -> list[uuid.UUID]:
    rows = [{"id": uuid.uuid4(), "owner": owner, "state": state, "rev": 0} for owner in owners]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with engine.begin() as db:
        db.execute(TABLE.insert(), [{**row, "updated_at": now} for row in rows])
    return [row["id"] for row in rows]


def read_revs(engine: sa.Engine, ids: list[uuid.UUID]) -> list[int]:
    with engine.connect() as db:
        revs = dict(db.execute(sa.select(TABLE.c.id, TABLE.c.rev).where(TABLE.c.id.in_(ids))).all())
    return [revs[session_id] for session_id in ids]


def apply_diff(
    engine: sa.Engine, owner: str, session_id: uuid.UUID, ops: list, if_match: str
) -> tuple[int, dt.datetime]:
    """Read, check `If-Match`, patch, compare-and-swap; `*` retries a lost race."""
    any_rev = if_match == "*"
    for _attempt in range(CAS_RETRIES):
        with engine.begin() as db:
            row = db.execute(
                sa.select(TABLE.c.state, TABLE.c.rev).where(
                    TABLE.c.id == session_id, TABLE.c.owner == owner
                )
            ).first()
            if row is None:
                raise Refused(404, "not_found")
            if not any_rev and if_match != f'"{row.rev}"':
                raise Refused(412, "precondition_failed")
            try:
                state = jsonpatch.apply_patch(row.state, ops, in_place=True)
            except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException):
                raise Refused(422, "invalid_ops") from None
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            swapped = db.execute(
                TABLE.update()
                .where(TABLE.c.id == session_id, TABLE.c.owner == owner, TABLE.c.rev == row.rev)
                .values(state=state, rev=TABLE.c.rev + 1, updated_at=now)
            ).rowcount
            if swapped == 1:
                return row.rev + 1, now
        if not any_rev:
            break
    raise Refused(412, "precondition_failed")


def caller(request: Request, secret: str) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise jwt.InvalidTokenError("not a bearer token")
        return jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["exp", "sub"]})[
            "sub"
        ]
    except jwt.PyJWTError:
        raise Refused(401, "unauthorized") from None


def create_app() -> Starlette:
    engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    secret = os.environ["BENCH_JWT_SECRET"]

    async def diff(request: Request) -> Response:
        try:
            owner = caller(request, secret)
            try:
                ops = json.loads(await request.body())["ops"]
                session_id = uuid.UUID(request.path_params["session_id"])
            except (ValueError, KeyError, TypeError):
                raise Refused(400, "invalid_request") from None
            if_match = request.headers.get("if-match", "")
            rev, updated_at = await run_in_threadpool(
                apply_diff, engine, owner, session_id, ops, if_match
            )
        except Refused as refused:
            return JSONResponse({"error": refused.error}, status_code=refused.status)
        body = {"rev": rev, "updated_at": updated_at.isoformat() + "Z"}
        return JSONResponse(body, headers={"ETag": f'"{rev}"'})

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            Route("/api/v1/solo/sessions/{session_id}/diff/", diff, methods=["PATCH"]),
            Route("/healthz", healthz),
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline_app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    options = parser.parse_args(argv)
    config = uvicorn.Config(
        "bench.baseline_app:create_app",
        factory=True,
        host=options.host,
        port=options.port,
        workers=options.workers,
        access_log=False,
        http="httptools",
    )
    if options.workers == 1:
        uvicorn.Server(config).run()
        return
    with bind_per_worker(options.host, options.port) as sock:
        run_workers(config, sock)


if __name__ == "__main__":
    main()
