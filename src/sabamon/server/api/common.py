"""Pieces shared by the resource routers."""

from __future__ import annotations

from typing import Any

from sabamon.server.api.errors import ErrorBody

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
