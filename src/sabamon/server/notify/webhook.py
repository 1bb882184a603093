"""Sends a JSON body with an HTTP POST: webhook and Slack incoming-webhook channels."""

from __future__ import annotations

from typing import Any

import httpx


class SendError(Exception):
    """A delivery attempt failed; the message goes into the delivery log."""


async def post_json(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> None:
    try:
        response = await client.post(url, json=body)
    except httpx.HTTPError as exc:
        raise SendError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
    if not 200 <= response.status_code < 300:
        raise SendError(f"HTTP {response.status_code}: {response.text[:200]}")
