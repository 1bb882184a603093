"""Helpers shared by the alerting routers: JSON bodies checked by our own validators."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from sabamon.server.api.errors import BadRequest
from sabamon.server.api.validation import parse_document

PAGE_LIMIT = 100


async def json_body(request: Request) -> Any:
    """The body's JSON with unstorable characters replaced (see `validation.sanitize`),
    within the limits of a stored document (`validation.parse_document`)."""
    return parse_document(await request.body())


def json_response(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def page_limit(limit: int | None) -> int:
    if limit is None:
        return PAGE_LIMIT
    if not 1 <= limit <= PAGE_LIMIT:
        raise BadRequest(f"limit: must be from 1 to {PAGE_LIMIT}")
    return limit
