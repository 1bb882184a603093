"""API errors and the handlers that render them as Mackerel does.

    ApiError                 any failure a client caused, rendered {"error": {"message": ...}}
    ├── BadRequest           400: bad JSON or a validation failure
    ├── Unauthorized         401: missing or unknown X-Api-Key
    ├── Forbidden            403: a read-only key on a write
    ├── NotFoundError        404: unknown route or resource
    └── PayloadTooLarge      413: body over the route's limit

Store errors map onto them: `store.NotFound` → 404, any other `StoreError` → 400, and so
does a definition rule's `DefinitionError` (`server/definitions.py`) → 400.
FastAPI's default 422 never reaches a client; its errors become a 400 naming the field.
A series engine that cannot answer (`SeriesStoreUnavailable`) gives a 503 with
Retry-After at once, logged once a minute with the count of failures since.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from sabamon.server.definitions import DefinitionError
from sabamon.server.store.records import NotFound, StoreError, StoreUnwritable
from sabamon.server.store.series_store import SeriesStoreUnavailable

log = logging.getLogger(__name__)

AUTH_FAILED = "Authentication failed. Please try with valid Api Key."


class ApiError(Exception):
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ApiError):
    status = 400


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class NotFoundError(ApiError):
    status = 404


class PayloadTooLarge(ApiError):
    status = 413


class ErrorDetail(BaseModel):
    message: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def error_response(status: int, message: str) -> Response:
    body = orjson.dumps({"error": {"message": message}})
    return Response(body, status_code=status, media_type="application/json")


def describe_location(loc: Sequence[int | str]) -> str:
    """("body", 3, "value") → "[3].value"; ("query", "from") → "from"."""
    parts = list(loc[1:]) if loc and loc[0] in ("body", "query", "path", "header") else list(loc)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def describe_validation_errors(errors: Sequence[Any]) -> str:
    messages = []
    for error in errors[:5]:
        where = describe_location(error.get("loc", ())) + error.get("ctx", {}).get("path", "")
        what = str(error.get("msg", "is invalid"))
        if error.get("type") == "json_invalid":
            messages.append(f"body: malformed JSON ({error.get('ctx', {}).get('error', what)})")
        elif error.get("type") == "missing" and where == "body":
            messages.append("body: a JSON body is required")
        else:
            messages.append(f"{where}: {what[0].lower() + what[1:] if what else what}")
    return "; ".join(messages)


class OncePerInterval:
    """Lets one log line through per `interval` seconds and counts the ones held back."""

    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self.next_at = float("-inf")
        self.held = 0

    def due(self) -> int | None:
        """The count held back since the last line when one is due now, else None."""
        now = self.clock()
        if now < self.next_at:
            self.held += 1
            return None
        held, self.held, self.next_at = self.held, 0, now + self.interval
        return held


def install_error_handlers(app: FastAPI) -> None:
    unavailable_log = OncePerInterval()

    async def on_api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.message)

    async def on_definition_error(_: Request, exc: Exception) -> Response:
        return error_response(400, str(exc))

    async def on_store_error(_: Request, exc: Exception) -> Response:
        status = 404 if isinstance(exc, NotFound) else 400
        return error_response(
            status, str(exc) or ("Not found." if status == 404 else "Bad request.")
        )

    async def on_series_unavailable(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SeriesStoreUnavailable)
        held = unavailable_log.due()
        if held is not None:
            log.error(
                "event=series_store_unavailable path=%s held_back=%d error=%r",
                request.url.path,
                held,
                str(exc),
            )
        response = error_response(503, "The series store is unavailable; retry later.")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def on_store_unwritable(_: Request, exc: Exception) -> Response:
        """The store logged it (once a minute per kind); the connection stays open."""
        assert isinstance(exc, StoreUnwritable)
        response = error_response(503, "The store cannot write now; retry after a while.")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    async def on_validation_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, describe_validation_errors(exc.errors()))

    async def on_http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code in (404, 405):  # a wrong method is an unknown route, as Mackerel
            return error_response(404, "Not found.")
        return error_response(exc.status_code, str(exc.detail))

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        log.error("event=unhandled_error path=%s error=%r", request.url.path, exc)
        return error_response(500, "Internal server error.")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StoreError, on_store_error)
    app.add_exception_handler(DefinitionError, on_definition_error)
    app.add_exception_handler(SeriesStoreUnavailable, on_series_unavailable)
    app.add_exception_handler(StoreUnwritable, on_store_unwritable)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected)
