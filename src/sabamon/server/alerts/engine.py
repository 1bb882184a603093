"""The alert engine: evaluates every monitor once per minute, off the request path.

A cycle for minute M loads a snapshot (monitors, hosts, recent points, check states,
external results), runs each target's state machine, and commits per target the new
state, alerts, alert logs and notification deliveries in one transaction. The store
skips targets already evaluated at M, so running a cycle twice is harmless.

Check monitors also have a fast path, as in Mackerel: `evaluate_checks` runs the check
reports not yet evaluated as soon as they are posted (the scheduler calls it when the
report route announces them), so a status change opens or closes its alert within
seconds; metric monitors keep their minute. A report is evaluated once, by whichever path
comes first (its state moves to the report's minute).

Notifications are suppressed (the alert is still recorded) for muted monitors, hosts in
`standby`, active downtimes and folded flaps; hosts in `maintenance` or `poweroff` are
not evaluated. Open alerts of a host retired by a path that did not close them close
here, with trigger `hostRetire` and its notification.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

from sabamon.server.alert_json import alert_json
from sabamon.server.alerts import evaluators, external, notices
from sabamon.server.alerts.closing import REASONS, Closer
from sabamon.server.alerts.computed import Points, filesystems_by_host, metric_names
from sabamon.server.alerts.expression import parse_expression
from sabamon.server.alerts.lifecycle import Change, Policy, TargetState, forget_alert, step
from sabamon.server.alerts.monitors import Monitor
from sabamon.server.alerts.notices import Definitions
from sabamon.server.notify.events import AlertEvent
from sabamon.server.outbound import OutboundPolicy
from sabamon.server.store import Store
from sabamon.server.store.records import (
    AlertLogRecord,
    AlertRecord,
    CheckState,
    Host,
    HostFilter,
    HostStatus,
    NotFound,
    Org,
    Point,
    TargetWrite,
    new_id,
)

log = logging.getLogger(__name__)

SILENT_CHUNK = 500
"""Hosts per read of silent series (bound parameters stay well under both databases' limits)."""
MONITOR_MARK = "*"
"""The target key of a monitor's own row: the newest minute evaluated for all its targets."""
CHECK_OVERLAP = 10
"""Seconds of reports a check pass reads again before the previous pass: the member that
received a report stamped it with its own clock, which may run a little behind ours."""
PER_HOST_READS = 50
"""Up to this many hosts, a check pass reads their states one host at a time."""


class Engine:
    def __init__(
        self,
        store: Store,
        org: Org,
        *,
        clock: Callable[[], float],
        base_url: str = "http://127.0.0.1:8080",
        graph_images: bool = False,
        owns: Callable[[str], bool] = lambda monitor_id: True,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self.store, self.org, self.clock, self.base_url = store, org, clock, base_url
        self.graph_images = graph_images  # publish graph images (a --public-url is set)
        self.outbound = outbound or OutboundPolicy()  # where external checks may connect
        self.owns = owns  # in a cluster, whether this member evaluates a monitor
        self.evaluated_through = -1  # the newest minute fully evaluated by this process
        self.pending: list[Pending] = []  # this cycle's notifications, queued before commit
        self._cycle = asyncio.Lock()  # a minute cycle and a check pass never interleave
        self._checks_read_at: int | None = None  # the clock when the last check pass began

    # snapshot -------------------------------------------------------------------------
    async def _snapshot(self, monitors: list[Monitor], minute: int) -> evaluators.Snapshot:
        org_id = self.org.id
        statuses: tuple[HostStatus, ...] = ("working", "standby", "maintenance", "poweroff")
        hosts = {
            h.id: h for h in await self.store.list_hosts(org_id, HostFilter(statuses=statuses))
        }
        host_names: set[str] = set()
        service_names: set[str] = set()
        host_lookback, service_lookback = 3 * 60, evaluators.STALE_AFTER
        for monitor in monitors:
            if monitor.type == "host":
                host_names.update(metric_names(monitor.get("metric")))
                host_lookback = max(host_lookback, (monitor.get("duration", 1) + 2) * 60)
            elif monitor.type == "service":
                service_names.add(monitor.get("metric"))
                for key in ("missingDurationWarning", "missingDurationCritical"):
                    service_lookback = max(service_lookback, (monitor.get(key) or 0) * 60)
            elif monitor.type == "external" and monitor.get("service"):
                service_names.add(external.RESPONSE_TIME_METRIC.format(monitor_id=monitor.id))
            elif monitor.type == "expression":
                back = (monitor.get("evaluateBackwardMinutes", 2) + 1) * 60
                host_lookback = max(host_lookback, back)
                for ref in parse_expression(monitor.get("expression")).series:
                    if ref.kind == "service":
                        service_names.add(ref.metric)
                    else:
                        host_names.update(metric_names(ref.metric))
        until = minute + 59
        host_points = await self.store.series.recent_points(
            org_id, "host", sorted(host_names), minute - host_lookback, until
        )
        await self._read_silent_series(monitors, hosts, host_points, minute - host_lookback)
        service_points = await self.store.series.recent_points(
            org_id, "service", sorted(service_names), minute - service_lookback, until
        )
        last_seen: dict[str, int] = {}
        if any(m.type == "connectivity" for m in monitors):
            last_seen = await self.store.series.host_last_seen(org_id)
        return evaluators.Snapshot(
            minute=minute,
            hosts=hosts,
            host_points=host_points,
            service_points=service_points,
            last_seen=last_seen,
            filesystems=filesystems_by_host(host_points),
            checks=await self.store.check_states(org_id),
        )

    async def _read_silent_series(
        self, monitors: list[Monitor], hosts: dict[str, Host], points: Points, since: int
    ) -> None:
        """Host metric monitors judge a newest point up to 20 minutes old, as Mackerel does.

        The cycle reads the last `duration + 2` minutes of every host; only the series
        silent in them (a host that stopped posting, a metric posted rarely) are read back
        to the 20-minute horizon, for their hosts alone, so a healthy fleet costs nothing.
        """
        posters: dict[str, set[str]] = defaultdict(set)  # posted name -> host ids
        for owner, name in points:
            posters[name].add(owner)
        silent: dict[str, set[str]] = defaultdict(set)  # monitored name -> host ids
        for monitor in monitors:
            if monitor.type != "host":
                continue
            names = metric_names(monitor.get("metric"))
            fresh: set[str] = set()
            for posted, owners in posters.items():
                if any(fnmatch(posted, n) for n in names):
                    fresh |= owners
            for host in evaluators.monitored_hosts(monitor, hosts):
                if host.id not in fresh:
                    for name in names:
                        silent[name].add(host.id)
        horizon = since - evaluators.STALE_AFTER
        for name, owners in sorted(silent.items()):
            ids = sorted(owners)
            for start in range(0, len(ids), SILENT_CHUNK):
                older = await self.store.series.recent_points(
                    self.org.id,
                    "host",
                    [name],
                    horizon,
                    since - 1,
                    ids[start : start + SILENT_CHUNK],
                )
                for key, series in older.items():
                    points[key] = series + points.get(key, [])

    async def _run_external(self, monitors: list[Monitor], snap: evaluators.Snapshot) -> None:
        """Runs external checks and stores their response times as service metrics."""
        checks = [m for m in monitors if m.type == "external" and not m.get("isMute")]
        if not checks:
            return
        snap.external = await external.check_all(checks, self.clock(), outbound=self.outbound)
        points = []
        for monitor in checks:
            result = snap.external[monitor.id]
            if monitor.get("service") and result.response_time_ms is not None:
                name = external.RESPONSE_TIME_METRIC.format(monitor_id=monitor.id)
                points.append(
                    Point(monitor.get("service"), name, snap.minute, result.response_time_ms)
                )
        if points:
            await self.store.series.write_points(self.org.id, "service", points, int(self.clock()))
            for point in points:
                key = (point.owner_id, point.name)
                snap.service_points[key] = [
                    *snap.service_points.get(key, []),
                    (point.time, point.value),
                ]

    # cycle ----------------------------------------------------------------------------
    async def evaluate_minute(self, minute: int) -> int:
        """Evaluates every monitor at `minute`; returns the number of targets committed.

        External checks run while the other monitors are evaluated and committed, so a
        slow target delays only the external monitors (each check has its own deadline);
        those are evaluated and committed once the checks end. Check reports keep their
        fast path meanwhile: the cycle's lock is not held while the checks run.
        """
        monitors = [
            Monitor(d.id, d.spec)
            for d in await self.store.list_documents(self.org.id, "monitor")
            if self.owns(d.id)
        ]
        externals = [m for m in monitors if m.type == "external"]
        others = [m for m in monitors if m.type != "external"]
        checking: asyncio.Task[None] | None = None
        try:
            async with self._cycle:
                snap = await self._snapshot(monitors, minute)
                checking = asyncio.create_task(self._run_external(externals, snap))
                committed = await self._evaluate_pass(others, snap, with_checks=True)
            await checking
            async with self._cycle:
                committed += await self._evaluate_pass(externals, snap, with_checks=False)
        finally:
            if checking is not None:
                checking.cancel()
        self.evaluated_through = max(self.evaluated_through, minute)
        log.info(
            "event=alerts_evaluated minute=%d monitors=%d committed=%d",
            minute, len(monitors), committed,
        )  # fmt: skip
        return committed

    async def evaluate_checks(self) -> int:
        """Evaluates the check reports posted since their monitor's last evaluation (the
        fast path); returns the number of targets committed."""
        async with self._cycle:
            return await self._evaluate_checks()

    async def _evaluate_checks(self) -> int:
        org_id, now = self.org.id, int(self.clock())
        since = None if self._checks_read_at is None else self._checks_read_at - CHECK_OVERLAP
        reported = [
            check
            for check in await self.store.check_states(org_id, reported_since=since)
            if self.owns(check.monitor_id)
        ]
        host_ids = sorted({check.host_id for check in reported})
        stored = await self._target_states_of(host_ids)
        checks = [
            check
            for check in reported
            if evaluators.check_targets(check).observation.minute
            > stored.get((check.monitor_id, check.host_id), {}).get("last_minute", -1)
        ]
        committed = await self._commit_checks(checks, stored, now) if checks else 0
        self._checks_read_at = now
        return committed

    async def _target_states_of(self, host_ids: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
        if len(host_ids) > PER_HOST_READS:
            return await self.store.target_states(self.org.id)
        stored: dict[tuple[str, str], dict[str, Any]] = {}
        for host_id in host_ids:
            stored.update(await self.store.target_states(self.org.id, host_id))
        return stored

    async def _commit_checks(
        self,
        checks: list[CheckState],
        stored: dict[tuple[str, str], dict[str, Any]],
        now: int,
    ) -> int:
        org_id = self.org.id
        hosts: dict[str, Host] = {}
        for host_id in sorted({check.host_id for check in checks}):
            with contextlib.suppress(NotFound):
                host = await self.store.get_host(org_id, host_id)
                if not host.is_retired:
                    hosts[host_id] = host
        snap = evaluators.Snapshot(minute=now - now % 60, hosts=hosts, host_points={},
                                   service_points={}, last_seen={}, checks=checks)  # fmt: skip
        open_alerts = {a.id: a for a in await self.store.open_alerts(org_id)}
        defs = await notices.load_definitions(self.store, org_id, now)
        writes: list[TargetWrite] = []
        self._evaluate_check_states(snap, stored, open_alerts, defs, writes)
        await self._queue_notifications()
        committed = await self.store.commit_targets(org_id, writes, now)
        log.info("event=checks_evaluated reports=%d committed=%d", len(checks), committed)
        return committed

    def _evaluate_check_states(
        self,
        snap: evaluators.Snapshot,
        stored: dict[tuple[str, str], dict[str, Any]],
        open_alerts: dict[str, AlertRecord],
        defs: Definitions,
        writes: list[TargetWrite],
    ) -> None:
        for check in snap.checks:
            if not self.owns(check.monitor_id):
                continue
            monitor = Monitor(
                check.monitor_id,
                {"type": "check", "name": check.name, "memo": check.memo,
                 "maxCheckAttempts": check.max_check_attempts,
                 "notificationInterval": check.notification_interval},
            )  # fmt: skip
            target = evaluators.check_targets(check)
            policy = monitor_policy(monitor)
            self._evaluate(monitor, policy, target, stored, open_alerts, snap, defs, writes)

    async def _evaluate_pass(
        self, monitors: list[Monitor], snap: evaluators.Snapshot, *, with_checks: bool
    ) -> int:
        """Runs the state machines of `monitors` (and of check reports, `with_checks`) at
        the snapshot's minute and commits them; returns the number of targets committed."""
        org_id, minute = self.org.id, snap.minute
        stored = await self.store.target_states(org_id)
        open_alerts = {a.id: a for a in await self.store.open_alerts(org_id)}
        defs = await notices.load_definitions(self.store, org_id, minute + 60)
        writes: list[TargetWrite] = []
        by_monitor: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for (monitor_id, target_key), machine in stored.items():
            by_monitor[monitor_id][target_key] = machine
        for monitor in monitors:
            targets = by_monitor[monitor.id]
            if targets.get(MONITOR_MARK, {}).get("last_minute", -1) >= minute:
                continue  # this minute was evaluated already
            log.debug("event=monitor_evaluated monitor=%s minute=%d", monitor.id, minute)
            levels = {t: s["level"] for t, s in targets.items() if t != MONITOR_MARK}
            policy = monitor_policy(monitor)
            for target in evaluators.EVALUATORS[monitor.type](monitor, snap, levels):
                self._evaluate(monitor, policy, target, stored, open_alerts, snap, defs, writes)
            writes.append(TargetWrite(monitor.id, MONITOR_MARK, minute, {"last_minute": minute}))
        if with_checks:
            self._evaluate_check_states(snap, stored, open_alerts, defs, writes)
        await self._queue_notifications()
        if with_checks:
            await self._close_retired(open_alerts, snap, minute)
        return await self.store.commit_targets(org_id, writes, int(self.clock()))

    def _evaluate(
        self,
        monitor: Monitor,
        policy: Policy,
        target: evaluators.Target,
        stored: dict[tuple[str, str], dict[str, Any]],
        open_alerts: dict[str, AlertRecord],
        snap: evaluators.Snapshot,
        defs: Definitions,
        writes: list[TargetWrite],
    ) -> None:
        raw = stored.get((monitor.id, target.key))
        obs = target.observation
        if raw is None and obs.status == "OK":
            return  # a healthy target without history: nothing to keep
        state = TargetState(**raw) if raw else TargetState(monitor.id, target.key)
        if state.alert_id is not None and state.alert_id not in open_alerts:
            forget_alert(state)  # closed by hand since the last cycle
        previous_status = state.alert_status
        changes = step(state, obs, policy)
        write = TargetWrite(monitor.id, target.key, obs.minute, {})
        for change in changes:
            alert = self._apply(monitor, target, state, change, open_alerts, obs.minute, write)
            host = snap.hosts.get(target.host_id or "")
            if change.notify and not notices.suppressed(monitor, host, defs):
                self._notify(monitor, alert, change, previous_status, snap, defs, write)
            if change.kind == "close":
                forget_alert(state)
        write.state = vars(state).copy()
        if raw is not None and obs.minute <= raw["last_minute"]:
            return
        # Minute-based monitors skip unchanged states (their MONITOR_MARK row guards the
        # minute); a check's state always moves to the report's minute, so that the same
        # report is never counted twice.
        if raw is not None and monitor.type != "check" and _unchanged(raw, write.state):
            return
        writes.append(write)

    def _apply(
        self,
        monitor: Monitor,
        target: evaluators.Target,
        state: TargetState,
        change: Change,
        open_alerts: dict[str, AlertRecord],
        minute: int,
        write: TargetWrite,
    ) -> AlertRecord:
        obs = target.observation
        if change.kind == "open":
            alert = AlertRecord(new_id(), monitor.id, target.key, monitor.type, target.host_id,
                                change.status, minute)  # fmt: skip
            state.alert_id = alert.id
            open_alerts[alert.id] = alert
        else:
            alert = open_alerts[state.alert_id or ""]
        alert.status, alert.flap_count = change.status, state.flap_count
        alert.value = (
            obs.value if monitor.type in ("host", "service", "expression", "external") else None
        )
        alert.message = obs.message or None
        if change.kind == "close":
            alert.closed_at, alert.reason = minute, None
            open_alerts.pop(alert.id, None)
        write.alerts = [a for a in write.alerts if a.id != alert.id] + [alert]
        if change.kind != "renotify":
            detail = None
            if monitor.type == "check":
                detail = {
                    "type": "check",
                    "detail": {"message": obs.message, "memo": monitor.get("memo", "")},
                }
            entry = AlertLogRecord(
                new_id(),
                alert.id,
                minute,
                change.status,
                "monitoring",
                monitor.id,
                obs.value,
                detail,
            )
            write.logs.append(entry)
        return alert

    def _notify(
        self,
        monitor: Monitor,
        alert: AlertRecord,
        change: Change,
        previous_status: str,
        snap: evaluators.Snapshot,
        defs: Definitions,
        write: TargetWrite,
    ) -> None:
        host = snap.hosts.get(alert.host_id or "")
        event = AlertEvent(
            org_name=self.org.name,
            base_url=self.base_url,
            alert=alert_json(alert),
            monitor=monitor.to_json(),
            trigger=notices.WEBHOOK_TRIGGERS["monitoring"],
            changed_at=write.minute,
            message=alert.message or "",
            host=notices.host_json(host) if host is not None else None,
            service=monitor.get("service"),
        )
        self.pending.append(
            Pending(event, monitor, host, change.kind, previous_status, defs, write)
        )

    async def _queue_notifications(self) -> None:
        """Draws the graph of each notified alert, then queues its deliveries."""
        pending, self.pending = self.pending, []
        for index, item in enumerate(pending):
            event = item.event
            channels = notices.routed_channels(
                event, item.monitor, item.host, item.previous_status, item.defs
            )
            if index < notices.GRAPHS_PER_BATCH:
                event = await notices.with_graph(
                    self.store, self.org.id, event, channels, self.graph_images
                )
            item.write.deliveries += notices.deliveries(event, item.change, channels)

    async def _close_retired(
        self, open_alerts: dict[str, AlertRecord], snap: evaluators.Snapshot, minute: int
    ) -> None:
        gone = [
            a
            for a in open_alerts.values()
            if a.host_id and a.host_id not in snap.hosts and self.owns(a.monitor_id)
        ]
        if gone:
            closer = Closer(self.store, self.org.name, self.base_url, self.graph_images)
            await closer.close(self.org.id, gone, REASONS["hostRetire"], "hostRetire", minute)


@dataclass(frozen=True)
class Pending:
    """A notification decided in the cycle, waiting for its graph."""

    event: AlertEvent
    monitor: Monitor
    host: Host | None
    change: str
    previous_status: str
    defs: Definitions
    write: TargetWrite


def monitor_policy(monitor: Monitor) -> Policy:
    return Policy(
        max_check_attempts=monitor.get("maxCheckAttempts") or 1,
        hold_down_minutes=monitor.get("holdDownMinutes"),
        flap_window_minutes=monitor.get("flapWindowMinutes"),
        flap_threshold=monitor.get("flapThreshold"),
        notification_interval=monitor.get("notificationInterval"),
    )


def _unchanged(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Equal but for `last_minute`."""
    return all(after[k] == before.get(k) for k in after if k != "last_minute")
