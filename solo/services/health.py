"""Readiness: does every dependency answer?"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from solo.db.uow import UnitOfWork
from solo.errors import Unavailable
from solo.storage import BlobStore, StorageUnavailable

log = logging.getLogger(__name__)


def readiness(uow: UnitOfWork, store: BlobStore) -> dict[str, str]:
    checks = {"database": "ok", "storage": "ok"}
    try:
        with uow:
            uow.ping()
    except SQLAlchemyError:
        log.exception("readiness: the database does not answer")
        checks["database"] = "unavailable"
    try:
        store.check()
    except StorageUnavailable as exc:
        log.error("readiness: the snapshot store does not answer: %s", exc)
        checks["storage"] = "unavailable"
    if "unavailable" in checks.values():
        raise Unavailable(checks)
    return checks
