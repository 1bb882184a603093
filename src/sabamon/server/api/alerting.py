"""Helpers shared by the alerting routers: JSON bodies checked by our own validators, and
the JSON of a stored definition."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Request
from starlette.responses import Response

from sabamon.server.api.errors import BadRequest
from sabamon.server.api.validation import parse_document
from sabamon.server.store.records import Document

PAGE_LIMIT = 100


async def json_body(request: Request) -> Any:
    """The body's JSON with unstorable characters replaced (see `validation.sanitize`),
    within the limits of a stored document (`validation.parse_document`)."""
    return parse_document(await request.body())


def document_json(doc: Document) -> dict[str, Any]:
    """A channel, notification group, downtime or alert group setting in the API's shape:
    the stored spec with its id."""
    return {"id": doc.id, **doc.spec}


def json_response(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def page_limit(limit: int | None) -> int:
    if limit is None:
        return PAGE_LIMIT
    if not 1 <= limit <= PAGE_LIMIT:
        raise BadRequest(f"limit: must be from 1 to {PAGE_LIMIT}")
    return limit
