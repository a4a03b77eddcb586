"""Expected error bodies, built whole: code, the echoed request id, message, details.

The code and the words come from the one error table (solo.web.errors): a test names the
error it expects, by class (its usual words) or as an instance (its own)."""

from __future__ import annotations

from solo.domain.errors import PreconditionFailed, Reason
from solo.web.errors import answer_for, message_of


def error_body(response, error: type[Exception] | Exception, **details) -> dict:
    return {
        "error": code_of(error),
        "request_id": response.headers["X-Request-ID"],
        "message": message_of(error) if isinstance(error, Exception) else usual_message(error),
        **details,
    }


def precondition_body(response, reason: str) -> dict:
    return error_body(response, PreconditionFailed(Reason(reason), 0), reason=reason)


def code_of(error: type[Exception] | Exception) -> str:
    return answer_for(error).code


def usual_message(error: type[Exception]) -> str:
    return answer_for(error).message
