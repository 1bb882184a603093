"""Notification channels (api.md §8): email, slack and webhook, validated field by field."""

from __future__ import annotations

from typing import Any

from sabamon.server.outbound import url_problem

CHANNEL_TYPES = ("email", "slack", "webhook")
CHANNEL_EVENTS = ("alert", "alertGroup", "hostStatus", "hostRegister", "hostRetire", "monitor")


class ChannelError(ValueError):
    """An invalid channel definition; the message names the field."""


def _url(body: dict[str, Any]) -> str:
    url = body.get("url")
    problem = url_problem(url)
    if problem is not None:
        raise ChannelError(f"url: {problem}")
    return str(url)


def _strings(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:  # omitted or null (a client's unset list): empty
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ChannelError(f"{key}: must be a list of strings")
    return list(value)


def _events(body: dict[str, Any]) -> list[str]:
    events = _strings(body, "events") if body.get("events") is not None else ["alert"]
    unknown = [e for e in events if e not in CHANNEL_EVENTS]
    if unknown:
        raise ChannelError(f"events: unknown event {unknown[0]!r}")
    return events


def validate_channel(body: Any, previous_type: str | None = None) -> dict[str, Any]:
    """The stored document for a POST (or, with `previous_type`, a PUT) body."""
    if not isinstance(body, dict):
        raise ChannelError("body: must be a JSON object")
    kind = body.get("type")
    if kind not in CHANNEL_TYPES:
        raise ChannelError(f"type: must be one of {', '.join(CHANNEL_TYPES)}")
    if previous_type is not None and kind != previous_type:
        raise ChannelError("type: cannot be changed")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ChannelError("name: is required")
    out: dict[str, Any] = {"name": name, "type": kind, "suspendedAt": None}
    if kind == "email":
        emails = _strings(body, "emails")
        bad = [e for e in emails if "@" not in e or any(c.isspace() for c in e)]
        if bad:
            raise ChannelError(f"emails: {bad[0]!r} is not an email address")
        out.update(emails=emails, userIds=_strings(body, "userIds"))
    else:
        out["url"] = _url(body)
        graph = body.get("enabledGraphImage") or False
        if not isinstance(graph, bool):
            raise ChannelError("enabledGraphImage: must be true or false")
        out["enabledGraphImage"] = graph
    if kind == "slack":
        mentions = body.get("mentions") or {}
        if not isinstance(mentions, dict) or not all(
            k in ("ok", "warning", "critical") and isinstance(v, str) for k, v in mentions.items()
        ):
            raise ChannelError("mentions: must map ok, warning, critical to strings")
        out["mentions"] = mentions
    out["events"] = _events(body)
    return out
