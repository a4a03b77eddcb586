"""URLs a client can use as they are: absolute, on the public origin (SOLO_PUBLIC_URL)."""

from __future__ import annotations

from urllib.parse import urljoin

from connexion import request

from solo.settings import Settings


def absolute_url(url: str, settings: Settings) -> str:
    """`url` joined to SOLO_PUBLIC_URL, else to the request's own origin; absolute ones stay."""
    origin = settings.public_url or f"{request.url.scheme}://{request.url.netloc}"
    return urljoin(origin + "/", url)
