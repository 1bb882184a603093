"""Helpers shared by the dashboard's definition forms (monitors, channels, groups)."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.requests import Request

from sabamon.server.text import sanitize

log = logging.getLogger(__name__)


class FormProblem(ValueError):
    """A form value the definition validators never see (NUL characters, bad JSON)."""


async def text_fields(request: Request) -> dict[str, str]:
    """The POSTed form's text fields; a repeated field keeps its values comma-joined."""
    form = await request.form()
    out: dict[str, str] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and key != "csrf":
            value = sanitize(value)
            out[key] = f"{out[key]},{value}" if key in out else value
    return out


def checked(body: Any) -> Any:
    """The body with characters no backend can store (NUL, lone surrogates) replaced by
    U+FFFD, as the API does."""
    return sanitize(body)


def parse_json_text(text: str) -> Any:
    """A pasted JSON document; the error says where it broke."""
    if not text.strip():
        raise FormProblem("json: paste a JSON object")
    try:
        return checked(orjson.loads(text))
    except orjson.JSONDecodeError as exc:
        raise FormProblem(f"json: malformed JSON ({exc})") from None


def pretty(document: dict[str, Any]) -> str:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode()
