"""Open alerts as the pages show them: the worst status per host and per monitor, how long
a host has been silent, and which open alerts reached no channel."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sabamon.server.store.records import AlertRecord, Delivery

SEVERITY = {"CRITICAL": 3, "WARNING": 2, "UNKNOWN": 1, "OK": 0}
STALE_AFTER = 120
"""Seconds after a host's last post when its numbers are shown greyed as stale."""


@dataclass(frozen=True)
class AlertSummary:
    worst: str  # the most severe open status
    count: int


def summarise(alerts: Iterable[AlertRecord], key: str) -> dict[str, AlertSummary]:
    """{host id or monitor id (`key`: "host_id" / "monitor_id"): its open alerts}."""
    out: dict[str, AlertSummary] = {}
    for alert in alerts:
        owner = getattr(alert, key)
        if not owner:
            continue
        seen = out.get(owner)
        worst = alert.status
        if seen is not None and SEVERITY.get(seen.worst, 0) >= SEVERITY.get(worst, 0):
            worst = seen.worst
        out[owner] = AlertSummary(worst, (seen.count if seen else 0) + 1)
    return out


def unreached(open_alerts: Sequence[AlertRecord], deliveries: Iterable[Delivery]) -> list[str]:
    """Ids of the open alerts no delivery was queued for (a delivery's event key starts
    with its alert's id)."""
    delivered = {d.event_key.split(":", 1)[0] for d in deliveries}
    return [a.id for a in open_alerts if a.id not in delivered]


def age(seconds: float | None) -> str:
    """`45 s`, `8 min`, `3 h`, `2 d`; `—` when unknown."""
    if seconds is None:
        return "—"
    seconds = max(0, int(seconds))
    for size, name in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {name}"
    return f"{seconds} s"
