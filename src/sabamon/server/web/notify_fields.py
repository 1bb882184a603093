"""Channel and notification-group forms to the API's JSON (api.md §8).

As with monitors, the API's validators (`validate_channel`, `validate_group`) judge the
result, so the forms show the API's messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sabamon.server.notify.channels import CHANNEL_EVENTS

from .monitor_fields import Field

CHANNEL_LABELS = {"webhook": "Webhook", "slack": "Slack", "email": "Email"}
MENTION_LEVELS = ("ok", "warning", "critical")
EVENTS = Field("events", "Events", "multi", CHANNEL_EVENTS)
GRAPH_IMAGE = Field("enabledGraphImage", "Attach graph image", "bool")
"""Slack's `image_url` and the webhook's `imageUrl` (ticked at first in the new-channel form)."""
CHANNEL_FIELDS: dict[str, tuple[Field, ...]] = {
    "webhook": (Field("name", "Name"), Field("url", "URL"), GRAPH_IMAGE, EVENTS),
    "slack": (
        Field("name", "Name"),
        Field("url", "Incoming webhook URL"),
        *(Field(f"mentions.{level}", f"Mention on {level.upper()}") for level in MENTION_LEVELS),
        GRAPH_IMAGE,
        EVENTS,
    ),
    "email": (
        Field("name", "Name"),
        Field("emails", "Addresses", "list", hint="comma-separated"),
        EVENTS,
    ),
}


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def channel_body(
    kind: str, form: Mapping[str, str], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON body for `validate_channel`; fields the form lacks keep their old value."""
    body = {k: v for k, v in (previous or {}).items() if k not in ("id", "suspendedAt")}
    body.update(type=kind, name=form.get("name", ""), events=_list(form.get("events", "")))
    if kind == "email":
        body["emails"] = _list(form.get("emails", ""))
    else:
        body["url"] = form.get("url", "").strip()
        body["enabledGraphImage"] = form.get("enabledGraphImage") == "on"
    if kind == "slack":
        body["mentions"] = {
            level: form[f"mentions.{level}"]
            for level in MENTION_LEVELS
            if form.get(f"mentions.{level}", "").strip()
        }
    return body


def channel_form(spec: Mapping[str, Any]) -> dict[str, str]:
    values = {
        "name": str(spec.get("name", "")),
        "url": str(spec.get("url", "")),
        "emails": ", ".join(spec.get("emails", [])),
        "events": ",".join(spec.get("events", [])),
        "enabledGraphImage": "on" if spec.get("enabledGraphImage") else "",
    }
    for level, text in (spec.get("mentions") or {}).items():
        values[f"mentions.{level}"] = text
    return values


def channel_target(spec: Mapping[str, Any]) -> str:
    if spec.get("type") == "email":
        return ", ".join(spec.get("emails", []))
    return str(spec.get("url", ""))


def group_body(
    form: Mapping[str, str], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON body for `validate_group`: child groups and `skipDefault` flags, which the
    form does not show, are kept."""
    skip = {m["id"]: m.get("skipDefault", False) for m in (previous or {}).get("monitors", [])}
    return {
        "name": form.get("name", ""),
        "notificationLevel": form.get("notificationLevel", "all"),
        "childChannelIds": _list(form.get("childChannelIds", "")),
        "childNotificationGroupIds": list((previous or {}).get("childNotificationGroupIds", [])),
        "monitors": [
            {"id": monitor_id, "skipDefault": skip.get(monitor_id, False)}
            for monitor_id in _list(form.get("monitors", ""))
        ],
        "services": [{"name": name} for name in _list(form.get("services", ""))],
    }


def group_form(spec: Mapping[str, Any]) -> dict[str, str]:
    return {
        "name": str(spec.get("name", "")),
        "notificationLevel": str(spec.get("notificationLevel", "all")),
        "childChannelIds": ",".join(spec.get("childChannelIds", [])),
        "monitors": ",".join(m["id"] for m in spec.get("monitors", [])),
        "services": ", ".join(s["name"] for s in spec.get("services", [])),
    }
