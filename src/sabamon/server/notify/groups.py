"""Notification groups (api.md §8) and routing an alert to channels.

A group receives an alert when it is the default group (unless a group naming the
monitor says `skipDefault`), names the monitor, or names the alert's service. Level
`critical` receives CRITICAL alerts and the recovery of an alert that was CRITICAL.
Child groups receive what their parent receives. Without any group, every channel that
subscribes to `alert` events receives every alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sabamon.server.store.records import Document


class GroupError(ValueError):
    """An invalid notification group; the message names the field."""


def _ids(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:  # omitted, or null from mackerel-client-go's unset slice
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise GroupError(f"{key}: must be a list of ids")
    return list(value)


def validate_group(body: Any, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise GroupError("body: must be a JSON object")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise GroupError("name: is required")
    kind = previous["type"] if previous else "group"
    if previous and kind == "group-default" and name != previous["name"]:
        raise GroupError("name: the default group cannot be renamed")
    level = body.get("notificationLevel") or "all"
    if level not in ("all", "critical"):
        raise GroupError("notificationLevel: must be 'all' or 'critical'")
    monitors = body.get("monitors") or []
    if not isinstance(monitors, list) or not all(
        isinstance(m, dict) and isinstance(m.get("id"), str) for m in monitors
    ):
        raise GroupError("monitors: must be a list of {id, skipDefault}")
    services = body.get("services") or []
    if not isinstance(services, list) or not all(
        isinstance(s, dict) and isinstance(s.get("name"), str) for s in services
    ):
        raise GroupError("services: must be a list of {name}")
    return {
        "type": kind,
        "name": name,
        "notificationLevel": level,
        "childNotificationGroupIds": _ids(body, "childNotificationGroupIds"),
        "childChannelIds": _ids(body, "childChannelIds"),
        "monitors": [{"id": m["id"], "skipDefault": bool(m.get("skipDefault"))} for m in monitors],
        "services": [{"name": s["name"]} for s in services],
    }


def _level_ok(group: dict[str, Any], status: str, was_critical: bool) -> bool:
    if group.get("notificationLevel") != "critical":
        return True
    return status == "CRITICAL" or (status == "OK" and was_critical)


def route(
    groups: Iterable[Document],
    channels: Iterable[Document],
    *,
    monitor_id: str,
    services: set[str],
    status: str,
    was_critical: bool,
) -> list[str]:
    """The ids of the channels that receive this alert event, sorted."""
    subscribed = {c.id for c in channels if "alert" in c.spec.get("events", ["alert"])}
    groups = list(groups)
    if not groups:
        return sorted(subscribed)
    by_id = {g.id: g.spec for g in groups}
    skip_default = any(
        m["id"] == monitor_id and m.get("skipDefault") for g in groups for m in g.spec["monitors"]
    )
    chosen: list[str] = []
    for group in groups:
        spec = group.spec
        named = any(m["id"] == monitor_id for m in spec["monitors"]) or any(
            s["name"] in services for s in spec["services"]
        )
        if named or (spec["type"] == "group-default" and not skip_default):
            chosen.append(group.id)
    receivers: set[str] = set()
    seen: set[str] = set()
    while chosen:
        group_id = chosen.pop()
        if group_id in seen or group_id not in by_id:
            continue
        seen.add(group_id)
        spec = by_id[group_id]
        if _level_ok(spec, status, was_critical):
            receivers.update(spec["childChannelIds"])
            chosen.extend(spec["childNotificationGroupIds"])
    return sorted(receivers & subscribed)
