"""The alert in the API's shape (spec/api.md §7): what `GET /api/v0/alerts` answers and the
`alert` every notification carries (`notify.events.AlertEvent`). It lives apart from
`api/` so the alert engine builds notifications without importing the API, and apart from
the store, whose records know nothing of how they are shown."""

from __future__ import annotations

from typing import Any

from sabamon.server.store.records import AlertRecord


def alert_json(alert: AlertRecord) -> dict[str, Any]:
    """The alert's JSON object; optional fields only when set, `flapCount` only when
    folded."""
    out: dict[str, Any] = {
        "id": alert.id,
        "status": alert.status,
        "monitorId": alert.monitor_id,
        "type": alert.type,
        "openedAt": alert.opened_at,
    }
    optional = {
        "hostId": alert.host_id,
        "value": alert.value,
        "message": alert.message,
        "reason": alert.reason,
        "closedAt": alert.closed_at,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    if alert.memo:
        out["memo"] = alert.memo
    if alert.flap_count:
        out["flapCount"] = alert.flap_count
    return out
