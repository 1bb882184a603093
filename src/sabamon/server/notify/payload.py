"""What each channel type sends for an event: the webhook body (api.md §8), the Slack
message and the email, each built from an `AlertEvent` alone."""

from __future__ import annotations

from typing import Any

from sabamon.server.notify.events import AlertEvent

SAMPLE_MESSAGE = "Sample Notification from Mackerel"
SLACK_COLORS = {"OK": "good", "WARNING": "warning", "CRITICAL": "danger", "UNKNOWN": "#aaaaaa"}


def _host_block(event: AlertEvent, host: dict[str, Any]) -> dict[str, Any]:
    base = event.base_url
    roles = [
        {
            "fullname": f"{service}:{role}",
            "serviceName": service,
            "serviceUrl": f"{base}/services/{service}",
            "roleName": role,
            "roleUrl": f"{base}/services/{service}#role={role}",
        }
        for service, names in sorted(host.get("roles", {}).items())
        for role in names
    ]
    return {
        "id": host["id"],
        "name": host["name"],
        "url": f"{base}/hosts/{host['id']}",
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
        "url": f"{event.base_url}/alerts/{alert['id']}",
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


def webhook_body(event: AlertEvent) -> dict[str, Any]:
    body: dict[str, Any] = {
        "orgName": event.org_name,
        "event": "alert",
        "type": event.monitor.get("type"),
        "message": event.message,
        "memo": event.monitor.get("memo", ""),
        "imageUrl": None,
    }
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


def slack_body(event: AlertEvent, mentions: dict[str, str] | None = None) -> dict[str, Any]:
    mention = (mentions or {}).get(event.status.lower(), "")
    alert_url = f"{event.base_url}/alerts/{event.alert['id']}"
    return {
        "text": f"{mention} {_title(event)}".strip(),
        "attachments": [
            {
                "color": SLACK_COLORS.get(event.status, "#aaaaaa"),
                "title": _title(event),
                "title_link": alert_url,
                "text": event.message,
                "fallback": f"{_title(event)} {event.message}",
            }
        ],
    }


def email_body(event: AlertEvent) -> dict[str, str]:
    """{"subject", "text"} of the mail."""
    lines = [
        _title(event),
        "",
        event.message,
        "",
        f"Monitor: {event.monitor.get('name', '')} ({event.monitor.get('type')})",
        f"Trigger: {event.trigger}",
        f"Alert: {event.base_url}/alerts/{event.alert['id']}",
    ]
    return {"subject": _title(event), "text": "\n".join(lines) + "\n"}


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
        return slack_body(event, channel.get("mentions"))
    if kind == "email":
        return email_body(event)
    return webhook_body(event)
