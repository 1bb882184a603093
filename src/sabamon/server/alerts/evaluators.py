"""One evaluator per monitor type: from a snapshot of the data to an observation per target.

Evaluators are pure: the engine loads a `Snapshot` for the minute, and each evaluator
returns `Target`s (target key, host, observation). A target with no usable data gets no
observation and keeps its state. Host and service monitors judge a newest point up to
20 minutes old (`STALE_AFTER`), as Mackerel does; older data is not judged.

Expression monitors are evaluated every minute, not every 5 minutes as in Mackerel: they
read the same recent window as host monitors, so the minute costs little, and a crossing
is seen up to 4 minutes sooner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sabamon.server.alerts.computed import Points, Series, host_series
from sabamon.server.alerts.expression import combine, parse_expression
from sabamon.server.alerts.external import RESPONSE_TIME_METRIC, ExternalResult
from sabamon.server.alerts.lifecycle import Observation
from sabamon.server.alerts.monitors import Monitor, in_scope
from sabamon.server.alerts.thresholds import classify
from sabamon.server.store.records import CheckState, Host

STALE_AFTER = 20 * 60
"""A newest point older than this is not evaluated (api.md §3)."""
CONNECTIVITY_TIMEOUT = 5 * 60
"""No metric from a working host for this long opens a connectivity alert."""
EVALUATED_STATUSES = ("working", "standby")


@dataclass
class Snapshot:
    minute: int  # the evaluated minute (epoch seconds, a multiple of 60)
    hosts: dict[str, Host]  # non-retired hosts
    host_points: Points
    service_points: Points
    last_seen: dict[str, int]  # host id -> newest point time
    filesystems: dict[str, list[str]] = field(default_factory=dict)
    checks: list[CheckState] = field(default_factory=list)
    external: dict[str, ExternalResult] = field(default_factory=dict)


@dataclass(frozen=True)
class Target:
    key: str  # host id, or "" for service-side monitors
    host_id: str | None
    observation: Observation


Levels = Mapping[str, str]
"""target key -> the status of its previous evaluation (for hysteresis)."""


def _usable(series: Series, minute: int) -> Series:
    """Points of the evaluated minute or before, dropping it all if the newest is stale."""
    usable = [p for p in series if p[0] < minute + 60]
    if not usable or usable[-1][0] < minute + 60 - STALE_AFTER:
        return []
    return usable


def _judge(monitor: Monitor, value: float, previous: str) -> str:
    return classify(
        value,
        monitor.get("operator"),
        monitor.get("warning"),
        monitor.get("critical"),
        previous=previous,
        recovery_warning=monitor.get("recoveryWarning"),
        recovery_critical=monitor.get("recoveryCritical"),
    )


def _average_of_last(series: Series, count: int) -> float:
    last = series[-count:]
    return sum(v for _, v in last) / len(last)


def monitored_hosts(monitor: Monitor, hosts: Mapping[str, Host]) -> list[Host]:
    scoped = monitor.get("scopes") or monitor.get("excludeScopes")
    return [
        h
        for h in hosts.values()
        if h.status in EVALUATED_STATUSES and (not scoped or in_scope(monitor, h.roles))
    ]


def evaluate_host(monitor: Monitor, snap: Snapshot, levels: Levels) -> list[Target]:
    out = []
    metric = monitor.get("metric")
    for host in monitored_hosts(monitor, snap.hosts):
        series = host_series(snap.host_points, host.id, metric, snap.filesystems.get(host.id, []))
        series = _usable(series, snap.minute)
        if not series:
            continue
        value = _average_of_last(series, monitor.get("duration", 1))
        status = _judge(monitor, value, levels.get(host.id, "OK"))
        operator = monitor.get("operator")
        message = "" if status == "OK" else f"{metric} {value:.2f} {operator} threshold"
        out.append(Target(host.id, host.id, Observation(snap.minute, status, value, message)))
    return out


def evaluate_connectivity(monitor: Monitor, snap: Snapshot, levels: Levels) -> list[Target]:
    out = []
    now = snap.minute + 60
    for host in monitored_hosts(monitor, snap.hosts):
        seen = max(snap.last_seen.get(host.id, 0), host.created_at)
        gone = now - seen > CONNECTIVITY_TIMEOUT
        status = monitor.get("alertStatusOnGone", "CRITICAL") if gone else "OK"
        message = f"no metrics for {(now - seen) // 60} minutes" if gone else ""
        out.append(Target(host.id, host.id, Observation(snap.minute, status, None, message)))
    return out


def _missing_status(monitor: Monitor, series: Series, minute: int) -> str:
    newest = series[-1][0] if series else None
    for level in ("Critical", "Warning"):
        minutes = monitor.get(f"missingDuration{level}")
        if minutes and (newest is None or newest < minute + 60 - minutes * 60):
            return level.upper()
    return "OK"


def evaluate_service(monitor: Monitor, snap: Snapshot, levels: Levels) -> list[Target]:
    service, metric = monitor.get("service"), monitor.get("metric")
    raw = [p for p in snap.service_points.get((service, metric), ()) if p[0] < snap.minute + 60]
    missing = _missing_status(monitor, raw, snap.minute)
    if missing != "OK":
        message = f"{metric} has no data"
        return [Target("", None, Observation(snap.minute, missing, None, message))]
    series = _usable(raw, snap.minute)
    if not series:
        return []
    value = _average_of_last(series, monitor.get("duration", 1))
    status = _judge(monitor, value, levels.get("", "OK"))
    message = f"{metric} {value:.2f} {monitor.get('operator')} threshold"
    return [Target("", None, Observation(snap.minute, status, value, message))]


def evaluate_external(monitor: Monitor, snap: Snapshot, levels: Levels) -> list[Target]:
    result = snap.external.get(monitor.id)
    if result is None:
        return []
    status, value = result.status, result.response_time_ms
    service = monitor.get("service")
    critical, warning = monitor.get("responseTimeCritical"), monitor.get("responseTimeWarning")
    if service and status == "OK" and (critical is not None or warning is not None):
        name = RESPONSE_TIME_METRIC.format(monitor_id=monitor.id)
        series = _usable(list(snap.service_points.get((service, name), ())), snap.minute)
        if series:
            value = _average_of_last(series, monitor.get("responseTimeDuration") or 1)
            status = classify(value, ">", warning, critical)
    message = result.message if status == result.status else f"response time {value:.0f} ms"
    return [Target("", None, Observation(snap.minute, status, value, message))]


def evaluate_expression(monitor: Monitor, snap: Snapshot, levels: Levels) -> list[Target]:
    expression = parse_expression(monitor.get("expression"))
    series: list[Series] = []
    for ref in expression.series:
        if ref.kind == "service":
            series.append(list(snap.service_points.get((ref.owner, ref.metric), ())))
            continue
        if ref.kind == "host":
            host_ids = [ref.owner] if ref.owner in snap.hosts else []
        else:
            service, role = ref.owner.split(":", 1)
            host_ids = [h.id for h in snap.hosts.values() if role in h.roles.get(service, [])]
        series += [
            host_series(snap.host_points, h, ref.metric, snap.filesystems.get(h, []))
            for h in host_ids
            if snap.hosts[h].status in EVALUATED_STATUSES
        ]
    back = monitor.get("evaluateBackwardMinutes", 2) * 60
    combined = [
        p for p in combine(expression, series) if snap.minute + 60 - back <= p[0] <= snap.minute
    ]
    if not combined:
        return []
    value = combined[-1][1]
    status = _judge(monitor, value, levels.get("", "OK"))
    message = f"{monitor.get('expression')} {value:.2f}"
    return [Target("", None, Observation(snap.minute, status, value, message))]


def check_targets(state: CheckState) -> Target:
    """A check report is its own observation, at the minute it occurred."""
    minute = state.occurred_at - state.occurred_at % 60
    observation = Observation(minute, state.status, None, state.message)
    return Target(state.host_id, state.host_id, observation)


EVALUATORS: dict[str, Callable[[Monitor, Snapshot, Levels], list[Target]]] = {
    "host": evaluate_host,
    "connectivity": evaluate_connectivity,
    "service": evaluate_service,
    "external": evaluate_external,
    "expression": evaluate_expression,
}
