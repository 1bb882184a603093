"""From an alert change to the deliveries that announce it: suppression, routing to
channels and each channel's payload. Shared by the engine's cycle and by closes made
outside it (by hand, by deleting the monitor, by retiring the host)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

from sabamon.server.alerts.downtimes import covers, is_active
from sabamon.server.alerts.explain import alert_graph
from sabamon.server.alerts.monitors import Monitor
from sabamon.server.graphing.png import render_png
from sabamon.server.notify import images
from sabamon.server.notify.events import AlertEvent
from sabamon.server.notify.groups import route
from sabamon.server.notify.payload import render
from sabamon.server.store import Store
from sabamon.server.store.records import Document, Host, NewDelivery

log = logging.getLogger(__name__)

WEBHOOK_TRIGGERS = {
    "monitoring": "monitoring",
    "manual": "manual close",
    "monitorDelete": "delete monitor",
    "hostRetire": "retire host",
}
"""Alert log trigger -> the webhook payload's `alert.trigger` wording."""
GRAPHS_PER_BATCH = 50
"""Notifications of one engine cycle, or of one close of many alerts (deleting a monitor,
retiring hosts), that carry a graph (one series read and one PNG drawing each); any
further ones go without, so a storm costs at most this many."""


@dataclass
class Definitions:
    """What notifications are routed with."""

    channels: list[Document]
    groups: list[Document]
    downtimes: list[Document]  # those active at the moment of the change


async def load_definitions(store: Store, org_id: str, at: int) -> Definitions:
    return Definitions(
        await store.list_documents(org_id, "channel"),
        await store.list_documents(org_id, "notification_group"),
        [d for d in await store.list_documents(org_id, "downtime") if is_active(d.spec, at)],
    )


def scopes(monitor: Monitor, host: Host | None) -> tuple[set[str], set[str]]:
    """(services, "service:role" names) an alert belongs to, for downtimes and groups."""
    if host is not None:
        services = set(host.roles)
        roles = {f"{s}:{r}" for s, names in host.roles.items() for r in names}
        return services, roles
    return ({monitor.get("service")} if monitor.get("service") else set()), set()


def suppressed(monitor: Monitor, host: Host | None, defs: Definitions) -> bool:
    """Muted monitors, hosts not `working` (standby is evaluated, never notified) and
    active downtimes send nothing."""
    if monitor.get("isMute"):
        return True
    if host is not None and not host.is_retired and host.status != "working":
        return True
    services, roles = scopes(monitor, host)
    return any(covers(d.spec, monitor.id, services, roles) for d in defs.downtimes)


def host_json(host: Host) -> dict[str, Any]:
    """The host fields a notification shows."""
    return {
        "id": host.id,
        "name": host.name,
        "status": host.status,
        "memo": host.memo,
        "roles": host.roles,
        "isRetired": host.is_retired,
    }


def routed_channels(
    event: AlertEvent,
    monitor: Monitor,
    host: Host | None,
    previous_status: str,
    defs: Definitions,
) -> list[Document]:
    """The channels that receive this alert event (`notify/groups.route`), in id order."""
    services, _ = scopes(monitor, host)
    ids = route(
        defs.groups, defs.channels, monitor_id=monitor.id, services=services,
        status=event.status, was_critical=previous_status == "CRITICAL",
    )  # fmt: skip
    by_id = {c.id: c for c in defs.channels}
    return [by_id[channel_id] for channel_id in ids]


def deliveries(event: AlertEvent, change: str, channels: list[Document]) -> list[NewDelivery]:
    """One delivery per routed channel; `change` makes the event key unique."""
    key = f"{event.key}:{change}"
    return [NewDelivery(c.id, key, render(c.spec, event)) for c in channels]


async def with_graph(
    store: Store,
    org_id: str,
    event: AlertEvent,
    channels: list[Document],
    publish_image: bool = False,
) -> AlertEvent:
    """`event` with the graph of its alert up to the end of the changed minute, drawn as
    SVG and PNG for the `channels` it is routed to (none: nothing is drawn). With
    `publish_image` (the server has a `--public-url`) and a channel showing graph images
    (`enabledGraphImage`), the PNG is also published at an unguessable address under it.
    A graph that cannot be read or drawn is logged and left out, never holding the
    notification back."""
    if not channels:
        return event
    host = event.host["name"] if event.host else (event.service or "")
    try:
        graph = await alert_graph(
            store, org_id, event.monitor, event.alert.get("hostId"),
            int(event.alert["openedAt"]), event.changed_at + 60, host,
        )  # fmt: skip
        if graph is not None:
            png = await asyncio.to_thread(render_png, graph.chart)  # ~10 ms off the loop
            url = None
            if publish_image and any(c.spec.get("enabledGraphImage") for c in channels):
                url = await images.publish(store, org_id, png, event.base_url, event.changed_at)
            graph = replace(graph, png=png, image_url=url)
    except Exception as exc:
        log.warning("event=alert_graph_failed alert=%s error=%r", event.alert["id"], exc)
        return event
    return replace(event, graph=graph)
