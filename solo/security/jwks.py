"""An identity provider's signing keys, fetched from its JWKS document when a token names
a key (`kid`) not fetched yet.

The fetch runs on a thread of its own (one: a second fetch never queues behind a hung
first), bounded by JWKS_FETCH_DEADLINE_SECONDS, and is shared by every request that needs
it. So a provider that hangs or is down costs only the requests whose key is not fetched
yet: keys fetched before keep working, a cached token or key never waits, and neither does
the event loop. The server fetches at most once per `refetch_seconds`
(SOLO_JWT_JWKS_REFETCH_SECONDS): a `kid` asked for
sooner waits for the next fetch (random kids cannot flood the provider).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import threading
import time
import urllib.request
from typing import Any

import jwt

from solo import limits
from solo.domain.errors import Unavailable

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "ES256")
"""What a JWKS key may sign tokens with here."""


class KeyNotFetched(Exception):
    """A token names a key (`kid`) the JWKS held when last fetched did not."""

    def __init__(self, kid: str) -> None:
        super().__init__(kid)
        self.kid = kid


class ProviderUnavailable(Unavailable):
    def __init__(self, detail: str) -> None:
        super().__init__({"identity_provider": "unavailable"}, detail)


class JwksKeys:
    def __init__(self, url: str, *, refetch_seconds: float) -> None:
        self._url = url
        self._refetch_seconds = refetch_seconds
        self._keys: dict[str, jwt.PyJWK] = {}
        # Re-entrant: a fetch that ends at once runs _adopt as it is registered.
        self._lock = threading.RLock()
        self._thread = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="solo-jwks")
        self._fetch: concurrent.futures.Future[dict[str, jwt.PyJWK]] | None = None
        self._started = -float("inf")
        """time.monotonic() when the last fetch started."""
        self._failed = False
        """Whether the last fetch that ended failed."""

    def key(self, kid: str) -> jwt.PyJWK:
        """The fetched key `kid` names; KeyNotFetched if none."""
        with self._lock:
            found = self._keys.get(kid)
        if found is None:
            raise KeyNotFetched(kid)
        return found

    async def fetch_for(self, kid: str) -> None:
        """Fetch the JWKS again for a `kid` not fetched yet: join the fetch in flight (or
        planned), or start one, no sooner than `refetch_seconds` after the last began (a
        key published just after a fetch is picked up by the next). ProviderUnavailable if
        the provider does not answer within the deadline, or did not when last asked."""
        with self._lock:
            if kid in self._keys:
                return
            fetch = self._fetch
            if fetch is None or fetch.done():
                now = time.monotonic()
                wait = max(self._started + self._refetch_seconds - now, 0)
                if wait and self._failed:
                    raise ProviderUnavailable("the last JWKS fetch failed")
                fetch = self._fetch = self._thread.submit(self._fetched, wait)
                self._started = now + wait
                fetch.add_done_callback(self._adopt)
            left = self._started + limits.JWKS_FETCH_DEADLINE_SECONDS - time.monotonic()
        try:
            await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(fetch)), max(left, 0))
        except TimeoutError:
            raise ProviderUnavailable("the JWKS did not arrive in time") from None
        except Exception as exc:
            raise ProviderUnavailable(f"the JWKS fetch failed: {exc}") from None

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)

    def _adopt(self, fetch: concurrent.futures.Future[dict[str, jwt.PyJWK]]) -> None:
        """A fetch ended: its keys replace the fetched ones (a key the provider dropped
        stops working); a failed fetch keeps them."""
        error = None if fetch.cancelled() else fetch.exception()
        with self._lock:
            self._failed = fetch.cancelled() or error is not None
            if not self._failed:
                self._keys = fetch.result()
        if error is not None:
            log.error("the identity provider's JWKS could not be fetched: %s", error)

    def _fetched(self, after_seconds: float) -> dict[str, jwt.PyJWK]:
        time.sleep(after_seconds)  # on the fetch's own thread, which nothing else needs
        request = urllib.request.Request(self._url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=limits.JWKS_FETCH_DEADLINE_SECONDS) as answer:
            document = answer.read(limits.JWKS_MAX_BYTES + 1)
        if len(document) > limits.JWKS_MAX_BYTES:
            raise ValueError(f"the JWKS is larger than {limits.JWKS_MAX_BYTES} bytes")
        keys = usable_keys(json.loads(document))
        log.info("fetched the identity provider's JWKS: keys %s", sorted(keys))
        return keys


def usable_keys(document: Any) -> dict[str, jwt.PyJWK]:
    """The signing keys of a JWKS document that have a `kid` and sign with one of
    ALGORITHMS, by kid; others (encryption keys, other algorithms) are left out."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWKS document: no `keys` list")
    keys = {}
    for data in document["keys"]:
        if not isinstance(data, dict) or not isinstance(data.get("kid"), str):
            continue
        if data.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(data)
        except (jwt.PyJWKError, jwt.InvalidKeyError):
            continue
        if key.algorithm_name in ALGORITHMS:
            keys[data["kid"]] = key
    return keys
