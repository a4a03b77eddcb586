"""What handlers and middleware are handed: built once per app by create_app."""

from __future__ import annotations

import dataclasses
import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from solo.auth import BeaconTokens, TokenVerifier
from solo.db.engine import make_engine
from solo.db.uow import UnitOfWork, session_factory
from solo.rate_limits import RateLimits
from solo.services.sessions import Clock
from solo.settings import Settings
from solo.storage import BlobStore
from solo.storage.factory import open_blob_store
from solo.storage.local import LocalBlobStore


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(frozen=True)
class Dependencies:
    settings: Settings
    engine: sa.Engine
    session_factory: sessionmaker
    token_verifier: TokenVerifier
    beacon_tokens: BeaconTokens
    rate_limits: RateLimits
    blob_store: BlobStore
    file_server: LocalBlobStore | None
    """The blob store when it is a local folder, whose URLs this server answers."""
    clock: Clock = utc_now

    @classmethod
    def build(cls, settings: Settings, clock: Clock = utc_now) -> Dependencies:
        engine = make_engine(settings.database_url)
        store = open_blob_store(settings, clock)
        return cls(
            settings,
            engine,
            session_factory(engine),
            TokenVerifier(settings),
            BeaconTokens(settings.effective_signing_key),
            RateLimits(settings),
            store,
            store if isinstance(store, LocalBlobStore) else None,
            clock,
        )

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def close(self) -> None:
        self.engine.dispose()
