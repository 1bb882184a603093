"""What each channel type sends for an event: the webhook body (api.md §8), the Slack
message and the email, each built from an `AlertEvent` alone.

Every link opens the dashboard at the server's public URL (`--public-url`): the alert's
page, and the host's page on the range around the alert. The graph of the alerting metric
travels with the notification, so the person paged sees its shape without signing in:

- Slack: the attachment's `image_url`, the PNG's address (`notify/images.py`); without one
  (no `--public-url`, or the channel's `enabledGraphImage` off) a line of block characters;
- webhook: `imageUrl` the same address (else null, as Mackerel sends it) and `graphSvg`;
- mail: the PNG inline in the HTML part (`cid:` GRAPH_CID, sent as a related part by
  `email.py`, carried base64 in the stored payload's `graphPng`), and the block characters
  in the text part. PNG rather than the SVG: Gmail and Outlook show no inline SVG.
"""

from __future__ import annotations

import base64
from html import escape
from typing import Any

from sabamon.server.notify.events import AlertEvent
from sabamon.server.public_url import alert_url, host_url, service_url

SAMPLE_MESSAGE = "Sample Notification from Mackerel"
SLACK_COLORS = {"OK": "good", "WARNING": "warning", "CRITICAL": "danger", "UNKNOWN": "#aaaaaa"}
GRAPH_CID = "graph@sabamon"
"""The Content-ID of the mail's graph image."""


def _host_block(event: AlertEvent, host: dict[str, Any]) -> dict[str, Any]:
    base = event.base_url
    roles = [
        {
            "fullname": f"{service}:{role}",
            "serviceName": service,
            "serviceUrl": service_url(base, service),
            "roleName": role,
            "roleUrl": service_url(base, service, role),
        }
        for service, names in sorted(host.get("roles", {}).items())
        for role in names
    ]
    return {
        "id": host["id"],
        "name": host["name"],
        "url": host_url(base, host["id"]),
        "type": "unknown",
        "status": host.get("status", "working"),
        "memo": host.get("memo", ""),
        "isRetired": bool(host.get("isRetired", False)),
        "roles": roles,
    }


def _alert_block(event: AlertEvent) -> dict[str, Any]:
    alert, monitor = event.alert, event.monitor
    block: dict[str, Any] = {
        "id": alert["id"],
        "url": alert_url(event.base_url, alert["id"]),
        "status": event.status.lower(),
        "isOpen": "closedAt" not in alert,
        "trigger": event.trigger,
        "openedAt": alert["openedAt"],
        "closedAt": alert.get("closedAt"),
        "statusChangedAt": event.changed_at,
        "createdAt": alert["openedAt"] * 1000,
        "monitorName": monitor.get("name", ""),
    }
    if monitor.get("type") in ("host", "service", "expression") and "value" in alert:
        block.update(
            metricLabel=monitor.get("metric") or monitor.get("expression", ""),
            metricValue=alert["value"],
            criticalThreshold=monitor.get("critical"),
            warningThreshold=monitor.get("warning"),
            monitorOperator=monitor.get("operator"),
            duration=monitor.get("duration", 1),
        )
    return block


def _image_url(event: AlertEvent, channel: dict[str, Any]) -> str | None:
    """The graph image's address, for a channel with `enabledGraphImage` on."""
    if event.graph is None or not channel.get("enabledGraphImage"):
        return None
    return event.graph.image_url


def webhook_body(event: AlertEvent, channel: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "orgName": event.org_name,
        "event": "alert",
        "type": event.monitor.get("type"),
        "message": event.message,
        "memo": event.monitor.get("memo", ""),
        "imageUrl": _image_url(event, channel or {}),
    }
    if event.graph is not None:
        body["graphSvg"] = event.graph.svg
    if event.host is not None:
        body["host"] = _host_block(event, event.host)
    if event.service is not None:
        body["service"] = {
            "id": event.service,
            "name": event.service,
            "memo": "",
            "orgId": event.org_name,
            "roles": [],
        }
    body["alert"] = _alert_block(event)
    return body


def _title(event: AlertEvent) -> str:
    where = (
        f" {event.host['name']}" if event.host else (f" {event.service}" if event.service else "")
    )
    return f"[{event.org_name}] {event.status}: {event.monitor.get('name', '')}{where}"


def host_link(event: AlertEvent) -> str | None:
    """The host's page on the graph's range (else the two hours before the change)."""
    if event.host is None:
        return None
    around = (
        (event.graph.frm, event.graph.to)
        if event.graph
        else (event.changed_at - 7200, event.changed_at + 60)
    )
    return host_url(event.base_url, event.host["id"], around)


def _graph_line(event: AlertEvent) -> str | None:
    graph = event.graph
    if graph is None or not graph.spark:
        return None
    return f"{graph.metric}, last {(graph.to - graph.frm) // 60} min: {graph.spark}"


def slack_body(event: AlertEvent, channel: dict[str, Any] | None = None) -> dict[str, Any]:
    channel = channel or {}
    mention = (channel.get("mentions") or {}).get(event.status.lower(), "")
    attachment: dict[str, Any] = {
        "color": SLACK_COLORS.get(event.status, "#aaaaaa"),
        "title": _title(event),
        "title_link": alert_url(event.base_url, event.alert["id"]),
        "text": event.message,
        "fallback": f"{_title(event)} {event.message}",
        "fields": [],
        "mrkdwn_in": ["fields"],
    }
    if image := _image_url(event, channel):
        attachment["image_url"] = image
    elif line := _graph_line(event):
        attachment["fields"].append({"title": "Graph", "value": f"`{line}`", "short": False})
    if link := host_link(event):
        attachment["fields"].append(
            {"title": "Host", "value": f"<{link}|{event.host and event.host['name']}>",
             "short": True}
        )  # fmt: skip
    return {"text": f"{mention} {_title(event)}".strip(), "attachments": [attachment]}


def email_body(event: AlertEvent) -> dict[str, str]:
    """{"subject", "text", "html"} of the mail, and "graphPng" (base64) when the alert has
    a graph, which the HTML part shows."""
    link = alert_url(event.base_url, event.alert["id"])
    lines = [
        _title(event),
        "",
        event.message,
        "",
        f"Monitor: {event.monitor.get('name', '')} ({event.monitor.get('type')})",
        f"Trigger: {event.trigger}",
        f"Alert: {link}",
    ]
    if host := host_link(event):
        lines.append(f"Host: {host}")
    if line := _graph_line(event):
        lines += ["", line]
    graph = event.graph
    html = [
        f"<p><strong>{escape(_title(event))}</strong></p>",
        f"<p>{escape(event.message)}</p>",
        f'<p><img src="cid:{GRAPH_CID}" width="480" height="180"'
        f' alt="{escape(graph.chart.title)}"></p>'
        if graph and graph.png
        else "",
        f'<p><a href="{escape(link)}">Open the alert</a>',
        f' · <a href="{escape(host)}">the host at that time</a></p>' if host else "</p>",
    ]
    body = {
        "subject": _title(event),
        "text": "\n".join(lines) + "\n",
        "html": "<!doctype html><html><body>" + "".join(html) + "</body></html>",
    }
    if graph and graph.png:
        body["graphPng"] = base64.b64encode(graph.png).decode()
    return body


def sample_body(channel_type: str) -> dict[str, Any]:
    """The test notification (the dashboard's button, POST /channels/<id>/test)."""
    if channel_type == "slack":
        return {"text": SAMPLE_MESSAGE}
    if channel_type == "email":
        return {"subject": SAMPLE_MESSAGE, "text": SAMPLE_MESSAGE + "\n"}
    return {"event": "sample", "message": SAMPLE_MESSAGE}


def render(channel: dict[str, Any], event: AlertEvent) -> dict[str, Any]:
    """The stored payload of a delivery of `event` to `channel`."""
    kind = channel["type"]
    if kind == "slack":
        return slack_body(event, channel)
    if kind == "email":
        return email_body(event)
    return webhook_body(event, channel)
