"""Helpers shared by the alerting routers: JSON bodies checked by our own validators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import orjson
from fastapi import Request
from starlette.responses import Response

from sabamon.server.alerts.closing import Closer
from sabamon.server.alerts.scheduler import AlertingOptions
from sabamon.server.api.deps import ServerState
from sabamon.server.api.errors import BadRequest
from sabamon.server.api.validation import check_document, parse_json, sanitize

T = TypeVar("T")
PAGE_LIMIT = 100


async def json_body(request: Request) -> Any:
    """The body's JSON with unstorable characters replaced (see `validation.sanitize`),
    within the limits of a stored document (`validation.document_problem`)."""
    return sanitize(check_document(parse_json(await request.body()), "body"))


def validated(validate: Callable[..., T], *args: Any) -> T:
    """Runs a definition validator; its ValueError (naming the field) becomes a 400."""
    try:
        return validate(*args)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


def json_response(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def page_limit(limit: int | None) -> int:
    if limit is None:
        return PAGE_LIMIT
    if not 1 <= limit <= PAGE_LIMIT:
        raise BadRequest(f"limit: must be from 1 to {PAGE_LIMIT}")
    return limit


async def alert_closer(request: Request, state: ServerState) -> Closer:
    """Closes alerts with the notification, linking where the engine's notifications do."""
    options = getattr(request.app.state, "alerting", None) or AlertingOptions()
    org, _ = await state.store.ensure_org(options.org_name)
    return Closer(state.store, org.name, options.base_url)
