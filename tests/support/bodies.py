"""Expected error bodies, built whole: code, the echoed request id, message, details."""

from __future__ import annotations

from solo import errors


def error_body(response, error: type[errors.SoloError] | errors.SoloError, **details) -> dict:
    if isinstance(error, errors.SoloError):
        code, message = error.code, error.message
    else:
        code, message = error.code, error.default_message
    return {
        "error": code,
        "request_id": response.headers["X-Request-ID"],
        "message": message,
        **details,
    }


def precondition_body(response, reason: str) -> dict:
    return error_body(response, errors.PreconditionFailed(reason, 0), reason=reason)
