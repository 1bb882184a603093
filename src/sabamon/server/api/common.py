"""Pieces shared by the resource routers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute

from sabamon.server.api.errors import BadRequest, ErrorBody
from sabamon.server.api.validation import read_json

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Bad JSON or a validation failure",
        401: "Missing or invalid X-Api-Key",
        403: "The key has no write permission",
        404: "Unknown resource",
        413: "Body too large",
    }.items()
}


class JsonBodyRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = read_json(await self.body())
            except BadRequest as exc:  # FastAPI passes an HTTPException on as it is
                raise HTTPException(400, exc.message) from None
        return self._json


class JsonBodyRoute(APIRoute):
    """A route whose JSON body (for its pydantic model) is read by `validation.read_json`,
    so a body too deep or not UTF-8 is answered as on every other route (U+FFFD for
    invalid UTF-8, a 400 naming `body` and the fault) instead of FastAPI's "There was an
    error parsing the body" (FastAPI's documented custom request and route classes)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_json_body(request: Request) -> Response:
            return await handler(JsonBodyRequest(request.scope, request.receive))

        return with_json_body
