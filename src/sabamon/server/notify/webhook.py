"""Sends a JSON body with an HTTP POST: webhook and Slack incoming-webhook channels."""

from __future__ import annotations

from typing import Any

import httpx

from sabamon.server.outbound import failure_text, read_prefix

RESPONSE_BYTES = 64 * 1024
"""Bytes of a receiver's answer read before the delivery counts as answered; the rest of
a longer answer is never read."""
ERROR_CHARACTERS = 200
"""Characters of a refusing receiver's answer kept in the delivery log."""


class SendError(Exception):
    """A delivery attempt failed; the message goes into the delivery log."""


def without_body(error: str | None) -> str | None:
    """A delivery error as a read-only key sees it: "HTTP 503: <body>" → "HTTP 503"."""
    if error is not None and error.startswith("HTTP "):
        return error.split(":", 1)[0]
    return error


async def post_json(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> None:
    """POSTs `body`; raises SendError for a transport failure or a non-2xx status. The
    caller bounds the whole exchange in time (see `delivery.SEND_TIMEOUT`)."""
    try:
        async with client.stream("POST", url, json=body) as response:
            answer = await read_prefix(response, RESPONSE_BYTES)
    except Exception as exc:  # httpx.HTTPError, or a request that cannot be made (a URL
        # stored before the save-time checks, `outbound.url_problem`): the attempt fails
        raise SendError(failure_text(exc)) from exc
    if not 200 <= response.status_code < 300:
        text = answer.decode("utf-8", "replace")[:ERROR_CHARACTERS]
        raise SendError(f"HTTP {response.status_code}: {text}")
