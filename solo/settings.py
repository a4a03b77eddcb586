"""One typed settings object, read once from the SOLO_* environment."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import re
from collections.abc import Mapping

from limits import parse as parse_rate_limit

from solo import limits
from solo.domain.model import KeptLog
from solo.domain.quotas import Quotas
from solo.domain.retention import RetentionPolicy

log = logging.getLogger(__name__)

_ORIGIN = re.compile(r"https?://[^/?#\s@]+/?")
_BEARER_TOKEN = re.compile(r"[A-Za-z0-9._~+/-]+=*")
"""RFC 6750's b64token: what an `Authorization: Bearer` header can carry."""

DEVELOPMENT_JWT_SECRET = "solo-development-secret-do-not-use-in-production"


class SettingsError(ValueError):
    """The environment holds a value the server cannot run with."""


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///./var/solo.db"
    storage_url: str = "file://./var/snapshots"
    s3_endpoint_url: str | None = None
    rate_limit_storage: str = "memory://"
    rate_limit_write: str = limits.RATE_LIMIT_WRITE
    rate_limit_beacon: str = limits.RATE_LIMIT_BEACON
    rate_limit_snapshot: str = limits.RATE_LIMIT_SNAPSHOT
    rate_limit_read: str = limits.RATE_LIMIT_READ
    jwt_secret: str = DEVELOPMENT_JWT_SECRET
    jwt_public_key: str | None = None
    signing_key: str | None = None
    signed_url_ttl: int = limits.SIGNED_URL_TTL_SECONDS
    cors_origins: tuple[str, ...] = ()
    public_url: str | None = None
    """The origin clients reach the server at, for absolute URLs; else the request's own."""
    beacon_events_kept: int = limits.BEACON_EVENTS_KEPT
    changes_kept: int = limits.CHANGES_KEPT
    changes_kept_mb: int = limits.CHANGES_KEPT_MB
    state_cache_mb: int = limits.STATE_CACHE_MB
    database_threads: int = limits.DATABASE_THREADS
    storage_threads: int = limits.STORAGE_THREADS
    body_deadline_seconds: int = limits.BODY_DEADLINE_SECONDS
    request_head_seconds: int = limits.REQUEST_HEAD_SECONDS
    """A request's line and headers must arrive within this long, else the connection is
    closed."""
    database_wait_seconds: int = limits.DATABASE_WAIT_SECONDS
    """Longest a request waits for the database before it is answered 503."""
    storage_deadline_seconds: int = limits.STORAGE_DEADLINE_SECONDS
    """Longest a request waits for one call to the snapshot store before it is answered 503."""
    event_streams_per_user: int = limits.EVENT_STREAMS_PER_USER
    """Event streams one user may hold open at once, over every process (at most 64)."""
    event_streams_per_session: int = limits.EVENT_STREAMS_PER_SESSION
    """Event streams one session may have open at once, over every process."""
    access_log: bool = True
    """One JSON line per answered request (SOLO_ACCESS_LOG)."""
    metrics: bool = True
    """Prometheus metrics at /metrics, outside the API (SOLO_METRICS)."""
    metrics_token: str | None = None
    """When set, /metrics answers only scrapes sending `Authorization: Bearer <it>`
    (SOLO_METRICS_TOKEN); unset, it is open, as in development."""
    validate_responses: bool = False
    """Check every answer against the spec (tests and schemathesis turn it on; it costs
    a parse of every response body, see bench/RESULTS.md)."""
    env: str = "development"
    """`production` refuses to serve with settings unsafe there (production_problems)."""
    one_machine: bool = False
    """Every server process runs on this one machine (SOLO_ONE_MACHINE): a local snapshot
    folder is then the same folder for all of them, also on PostgreSQL in production."""
    snapshots_keep_last: int = limits.SNAPSHOTS_KEEP_LAST
    snapshots_keep_hourly: int = limits.SNAPSHOTS_KEEP_HOURLY
    snapshots_keep_daily: int = limits.SNAPSHOTS_KEEP_DAILY
    quota_sessions: int = limits.QUOTA_SESSIONS
    quota_mb: int = limits.QUOTA_MB
    jwt_jwks_url: str | None = None
    """An identity provider's JWKS: RS256 and ES256 tokens signed by its keys are accepted."""
    jwt_jwks_refetch_seconds: int = limits.JWKS_REFETCH_SECONDS
    """The JWKS is fetched again at most once per this many seconds (for a `kid` not
    fetched yet): random kids cannot flood the provider."""
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    """When set, every token's `iss` (`aud`) must be this."""

    @property
    def kept_log(self) -> KeptLog:
        return KeptLog(changes=self.changes_kept, bytes=self.changes_kept_mb * limits.MIB)

    @property
    def retention(self) -> RetentionPolicy:
        return RetentionPolicy(
            last=self.snapshots_keep_last,
            hourly=self.snapshots_keep_hourly,
            daily=self.snapshots_keep_daily,
        )

    @property
    def quotas(self) -> Quotas:
        return Quotas(sessions=self.quota_sessions, bytes=self.quota_mb * limits.MIB)

    def production_problems(self) -> list[str]:
        """What makes these settings unsafe to serve in production: all of it, named."""
        problems = []
        if self.uses_development_secret:
            problems.append("SOLO_JWT_SECRET is the public development secret: set your own")
        if self.public_url is None:
            problems.append(
                "SOLO_PUBLIC_URL is not set: absolute URLs would follow the Host header"
            )
        if self.validate_responses:
            problems.append("SOLO_VALIDATE_RESPONSES is on: it checks every answer, for tests only")
        if self.metrics and self.metrics_token is None:
            problems.append(
                "SOLO_METRICS_TOKEN is not set: /metrics would be open to anyone "
                "(set it, or SOLO_METRICS=false)"
            )
        if self.storage_url.startswith("file://") and self.spans_machines:
            problems.append(
                "SOLO_STORAGE_URL is a local folder while server processes may run on "
                "several machines (PostgreSQL): use s3://, or declare SOLO_ONE_MACHINE=true"
            )
        return problems

    def refuse_unsafe_production(self) -> None:
        """SettingsError naming every problem, when in production with any."""
        problems = self.production_problems() if self.env == "production" else []
        if problems:
            raise SettingsError("SOLO_ENV=production refuses to serve: " + "; ".join(problems))

    @property
    def spans_machines(self) -> bool:
        """Whether server processes may run on several machines: on PostgreSQL, unless the
        operator says otherwise (an SQLite file is one machine's by nature)."""
        return not self.database_url.startswith("sqlite") and not self.one_machine

    @property
    def uses_development_secret(self) -> bool:
        return self.jwt_secret == DEVELOPMENT_JWT_SECRET

    @property
    def effective_signing_key(self) -> bytes:
        """The key that sealed tokens' keys are derived from (solo/sealing.py: download URLs,
        beacon and events tokens); derived from the JWT secret when unset, never the secret."""
        if self.signing_key:
            return self.signing_key.encode()
        return hashlib.sha256(b"solo-signing:" + self.jwt_secret.encode()).digest()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        problems: list[str] = []
        values: dict[str, object] = {}
        for field in dataclasses.fields(cls):
            name = "SOLO_" + field.name.upper()
            raw = env.get(name)
            if raw is None or raw == "":
                continue
            try:
                values[field.name] = _convert(field.name, raw)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise SettingsError("invalid configuration: " + "; ".join(problems))
        settings = cls(**values)  # type: ignore[arg-type]  # each value _convert-ed to its field
        if settings.uses_development_secret:
            log.warning(
                "SOLO_JWT_SECRET is not set: tokens are signed with the public "
                "development secret. Never run like this in production."
            )
        return settings


_WHOLE_NUMBERS = {
    "signed_url_ttl",
    "beacon_events_kept",
    "changes_kept",
    "changes_kept_mb",
    "state_cache_mb",
    "database_threads",
    "storage_threads",
    "body_deadline_seconds",
    "request_head_seconds",
    "database_wait_seconds",
    "storage_deadline_seconds",
    "jwt_jwks_refetch_seconds",
    "event_streams_per_user",
    "event_streams_per_session",
    "snapshots_keep_last",
    "quota_sessions",
    "quota_mb",
}
_COUNTS = {"snapshots_keep_hourly", "snapshots_keep_daily"}
"""Whole numbers that may be 0 (a retention tier turned off)."""
_URL = re.compile(r"https?://[^\s]+")


def _convert(name: str, raw: str) -> object:
    if name in _WHOLE_NUMBERS:
        if not raw.isdigit() or int(raw) <= 0:
            raise ValueError(f"expected a positive whole number, got {raw!r}")
        if name == "changes_kept_mb" and int(raw) < limits.CHANGES_KEPT_MB_MIN:
            raise ValueError(
                f"expected at least {limits.CHANGES_KEPT_MB_MIN} (a whole state and a diff)"
            )
        if name == "event_streams_per_user" and int(raw) > limits.EVENT_STREAMS_PER_USER_MAX:
            raise ValueError(f"at most {limits.EVENT_STREAMS_PER_USER_MAX}, got {raw!r}")
        return int(raw)
    if name in _COUNTS:
        if not raw.isdigit():
            raise ValueError(f"expected a whole number (0 turns it off), got {raw!r}")
        return int(raw)
    if name == "env" and raw not in ("development", "production"):
        raise ValueError(f"expected development or production, got {raw!r}")
    if name == "jwt_jwks_url" and not _URL.fullmatch(raw):
        raise ValueError(f"{raw!r} is not an http:// or https:// URL")
    if name in ("validate_responses", "access_log", "metrics", "one_machine"):
        if raw not in ("true", "false"):
            raise ValueError(f"expected true or false, got {raw!r}")
        return raw == "true"
    if name == "cors_origins":
        origins = tuple(part.strip() for part in raw.split(",") if part.strip())
        for origin in origins:
            if not origin.startswith(("http://", "https://")) and origin != "*":
                raise ValueError(f"{origin!r} is not an origin like https://editor.example")
        return origins
    if name == "metrics_token" and not _BEARER_TOKEN.fullmatch(raw):
        raise ValueError("expected letters, digits and -._~+/ (a bearer token), then any =")
    if name == "public_url":
        if not _ORIGIN.fullmatch(raw):
            raise ValueError(
                f"{raw!r} is not an origin like https://solo.example or http://host:8000"
            )
        return raw.rstrip("/")
    if name.startswith("rate_limit_") and name != "rate_limit_storage":
        try:
            parse_rate_limit(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a rate like 120/minute") from None
        return raw
    if name == "rate_limit_storage" and not raw.startswith(("memory://", "redis://", "rediss://")):
        raise ValueError(f"{raw!r} must be memory:// or a redis:// URL")
    if name == "database_url" and "://" not in raw:
        raise ValueError(f"{raw!r} is not an SQLAlchemy URL")
    if name == "storage_url" and not raw.startswith(("file://", "s3://")):
        raise ValueError(f"{raw!r} must start with file:// or s3://")
    return raw
