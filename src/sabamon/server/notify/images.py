"""Graph images of notifications at an address anyone holding it can open: Slack fetches an
attachment's `image_url` without signing in, and so may a webhook receiver its `imageUrl`.

Each image gets its own random token (256 bits, `secrets.token_urlsafe`), so its address
`<public URL>/graphs/<token>.png` reveals that one picture and no other can be guessed
from it. The store keeps the PNG under the SHA-256 of the token (as it keeps sessions), for
IMAGE_LIFETIME; afterwards, or for any other token, the address answers 404.

Only a server told its `--public-url` publishes images: the listen address would be
unreachable for Slack, so without it the image URL is left out (Slack keeps the text
sparkline; mail still carries the PNG itself).
"""

from __future__ import annotations

import hashlib
import re
import secrets

from sabamon.server.store import Store

IMAGE_LIFETIME = 7 * 86400
"""Seconds an image stays reachable: a week, for a receiver or a chat log read late."""
TOKEN_BYTES = 32
IMAGE_NAME = re.compile(r"[A-Za-z0-9_-]{43}\.png")
"""`<token>.png` as `secrets.token_urlsafe(TOKEN_BYTES)` makes it."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def image_url(base_url: str, token: str) -> str:
    return f"{base_url}/graphs/{token}.png"


async def publish(store: Store, org_id: str, png: bytes, base_url: str, now: int) -> str:
    """Stores `png` under a new token; returns its address under `base_url`."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    await store.put_graph_image(org_id, token_digest(token), png, now + IMAGE_LIFETIME, now)
    return image_url(base_url, token)


async def find(store: Store, name: str, now: int) -> tuple[bytes, int] | None:
    """(PNG, expires_at epoch seconds) of `<token>.png` if the token is known and unexpired."""
    if not IMAGE_NAME.fullmatch(name):
        return None
    return await store.graph_image(token_digest(name.removesuffix(".png")), now)
