"""connexion's security handlers for Solo's schemes, chosen by scheme type so that the
public document carries no Python path: one bearer scheme (JWTs), and apiKey schemes for
the scoped tokens of URLs, each naming its purpose in `x-token-purpose`."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from connexion.security import (
    AbstractSecurityHandler,
    ApiKeySecurityHandler,
    BearerSecurityHandler,
)

from solo.http.scope import path_parameter


async def bearer_info(token: str, request: Any) -> dict[str, Any]:
    """connexion's x-bearerInfoFunc: the caller as token_info, or CredentialRefused (or
    503 when the identity provider must be asked for the token's key and does not answer).
    A token or key already known is answered without waiting on anything."""
    caller = await request.context["deps"].token_verifier.verified(token)
    return {"sub": caller.user, "exp": caller.expires_at}


def session_token_info(purpose: str) -> Callable[[str, Any], dict[str, Any]]:
    """connexion's apiKey function for a `?token=` of `purpose`: valid only on its own
    session's operation of that purpose."""

    def token_info(token: str, request: Any) -> dict[str, Any]:
        deps = request.context["deps"]
        session_id = path_parameter(request.scope, "session_id") or ""
        caller = deps.session_tokens[purpose].caller_for(token, session_id, deps.clock())
        return {"sub": caller.user, "exp": caller.expires_at}

    return token_info


@functools.cache
def _accepts_kwarg(func: Callable[..., Any], keyword: str) -> bool:
    return bool(AbstractSecurityHandler._accepts_kwarg(func, keyword))


class _SignaturesKnown:
    # connexion 3.3 inspects the token function's signature on every request (its private
    # `_accepts_kwarg`, 65 µs of a 1 KiB diff); the answer depends on the function alone.
    _accepts_kwarg = staticmethod(_accepts_kwarg)


class BearerAuth(_SignaturesKnown, BearerSecurityHandler):
    # Overrides connexion's private `_resolve_func` (connexion 3.3, security.py), which
    # would import the function the scheme's `x-bearerInfoFunc` names: Solo's document
    # names none. tests/web/test_connexion_canaries.py fails if the hook moves. connexion
    # awaits what the function returns when it is a coroutine.
    def _resolve_func(
        self, security_scheme: dict[str, Any]
    ) -> Callable[..., Awaitable[dict[str, Any]]]:
        return bearer_info


class SessionTokenAuth(_SignaturesKnown, ApiKeySecurityHandler):
    # The same private hook, for the apiKey schemes (`x-apikeyInfoFunc`).
    def _resolve_func(self, security_scheme: dict[str, Any]) -> Callable[..., dict[str, Any]]:
        return session_token_info(security_scheme["x-token-purpose"])


SECURITY_MAP = {"bearer": BearerAuth, "apiKey": SessionTokenAuth}
"""connexion's security handlers by scheme type."""
