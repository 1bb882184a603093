"""The records the alert engine hands to notification: one per notifiable change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sabamon.server.alerts.explain import AlertGraph


@dataclass(frozen=True)
class AlertEvent:
    """An alert opened, changed status, closed or is re-notified.

    `alert` is the alert in the API's shape (api.md §7), `monitor` the monitor JSON,
    `host` the host JSON (host-side alerts) and `service` the service name (service and
    external alerts). `trigger` is the webhook's wording: "monitoring", "manual close",
    "delete monitor", "retire host". `graph` is the alerting metric around the alert's
    open time (host and service metric monitors), drawn on the server.
    """

    org_name: str
    base_url: str
    alert: dict[str, Any]
    monitor: dict[str, Any]
    trigger: str
    changed_at: int
    message: str
    host: dict[str, Any] | None = None
    service: str | None = None
    graph: AlertGraph | None = None

    @property
    def status(self) -> str:
        return str(self.alert["status"])

    @property
    def key(self) -> str:
        """Identifies the event among all others: the alert and the moment of the change."""
        return f"{self.alert['id']}:{self.changed_at}:{self.status}:{self.trigger}"
