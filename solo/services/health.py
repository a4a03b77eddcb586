"""Readiness: does every dependency answer?"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from solo.db.uow import UnitOfWork
from solo.errors import Unavailable

log = logging.getLogger(__name__)


def readiness(uow: UnitOfWork) -> dict[str, str]:
    checks = {"database": "ok"}
    try:
        with uow:
            uow.ping()
    except SQLAlchemyError:
        log.exception("readiness: the database does not answer")
        checks["database"] = "unavailable"
    if "unavailable" in checks.values():
        raise Unavailable(checks)
    return checks
