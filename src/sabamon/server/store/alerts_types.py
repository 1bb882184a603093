"""Records of the alerting part of the store: definitions, alert states, alerts, logs and
notification deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

DocumentKind = Literal[
    "monitor", "channel", "notification_group", "downtime", "alert_group_setting"
]
"""Definitions kept as validated JSON documents, one table each."""

DeliveryState = Literal["pending", "sending", "sent", "failed"]


@dataclass
class Document:
    id: str
    spec: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The API shape: the stored spec with its id."""
        return {"id": self.id, **self.spec}


@dataclass
class AlertRecord:
    id: str
    monitor_id: str
    target: str  # host id for host-side monitors, "" otherwise
    type: str  # the monitor type
    host_id: str | None
    status: str
    opened_at: int
    value: float | None = None
    message: str | None = None
    reason: str | None = None
    memo: str = ""
    flap_count: int = 0
    closed_at: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The alert in the API's shape (api.md §7); `flapCount` only when folded."""
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "monitorId": self.monitor_id,
            "type": self.type,
            "openedAt": self.opened_at,
        }
        optional = {
            "hostId": self.host_id,
            "value": self.value,
            "message": self.message,
            "reason": self.reason,
            "closedAt": self.closed_at,
        }
        out.update({k: v for k, v in optional.items() if v is not None})
        if self.memo:
            out["memo"] = self.memo
        if self.flap_count:
            out["flapCount"] = self.flap_count
        return out


@dataclass
class AlertLogRecord:
    id: str
    alert_id: str
    created_at: int
    status: str
    trigger: str  # monitoring, manual, monitorDelete, hostRetire, ...
    monitor_id: str | None
    target_value: float | None = None
    status_detail: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": self.created_at,
            "status": self.status,
            "trigger": self.trigger,
            "monitorId": self.monitor_id,
            "targetValue": self.target_value,
            "statusDetail": self.status_detail,
        }


@dataclass
class NewDelivery:
    channel_id: str
    event_key: str  # unique per channel: an event is delivered once
    payload: dict[str, Any]


@dataclass
class Delivery:
    id: str
    org_id: str
    channel_id: str
    event_key: str
    payload: dict[str, Any]
    state: DeliveryState
    attempts: int
    next_attempt_at: int
    last_error: str | None
    created_at: int
    sent_at: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channelId": self.channel_id,
            "event": self.event_key,
            "state": self.state,
            "attempts": self.attempts,
            "nextAttemptAt": self.next_attempt_at,
            "lastError": self.last_error,
            "createdAt": self.created_at,
            "sentAt": self.sent_at,
        }


@dataclass
class TargetWrite:
    """What one evaluation of one (monitor, target) changed, committed together.

    Skipped as a whole when the store already holds an evaluation of `minute` or later
    for the target, so evaluating a minute twice writes nothing twice.
    """

    monitor_id: str
    target: str
    minute: int
    state: dict[str, Any]
    alerts: list[AlertRecord] = field(default_factory=list)  # inserted or updated
    logs: list[AlertLogRecord] = field(default_factory=list)
    deliveries: list[NewDelivery] = field(default_factory=list)
