"""The engine minute by minute on a simulated clock, with the real store and a real
webhook receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.server.notify.receiver import Receiver, receiving

from sabamon.server.alerts.engine import Engine
from sabamon.server.alerts.monitors import validate_monitor
from sabamon.server.notify.channels import validate_channel
from sabamon.server.notify.delivery import DeliveryWorker
from sabamon.server.store import Store
from sabamon.server.store.records import Document, HostInput, Point

T0 = 1_800_000_000 - 1_800_000_000 % 60


class Clock:
    def __init__(self) -> None:
        self.now = float(T0)

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


class World:
    """A store, an engine and a delivery worker sharing one simulated clock."""

    def __init__(self, store: Store, org_id: str, receiver: Receiver) -> None:
        self.store, self.org_id, self.receiver = store, org_id, receiver
        self.clock = Clock()
        self.engine: Engine
        self.worker = DeliveryWorker(store, self.clock)

    async def setup(self) -> None:
        org, _ = await self.store.ensure_org("test")
        self.engine = Engine(self.store, org, clock=self.clock, base_url="http://sabamon.test")
        spec = validate_channel({"type": "webhook", "name": "hook", "url": self.receiver.url})
        await self.store.put_document(self.org_id, "channel", Document("chan1", spec), T0)

    async def monitor(self, body: dict[str, Any], monitor_id: str = "mon1") -> None:
        doc = Document(monitor_id, validate_monitor(body))
        await self.store.put_document(self.org_id, "monitor", doc, T0)

    async def host(self, name: str, status: str = "working") -> str:
        host_id = await self.store.create_host(
            self.org_id, HostInput(name=name, role_fullnames=["web:app"]), T0 - 3600
        )
        if status != "working":
            await self.store.set_host_status(self.org_id, [host_id], status)  # type: ignore[arg-type]
        return host_id

    async def minute(self, index: int, values: dict[str, float]) -> None:
        """Posts each host's loadavg5 for minute `index`, then evaluates and delivers."""
        minute = T0 + index * 60
        points = [Point(h, "loadavg5", minute, v) for h, v in values.items()]
        self.clock.now = minute + 50
        if points:
            await self.store.series.write_points(self.org_id, "host", points, int(self.clock.now))
        self.clock.now = minute + 90
        await self.engine.evaluate_minute(minute)
        await self.worker.run_once()


@pytest.fixture
async def world(store: Store, org_id: str, receiver: Receiver) -> World:
    made = World(store, org_id, receiver)
    await made.setup()
    return made


LOAD = {"type": "host", "name": "load", "metric": "loadavg5", "operator": ">",
        "warning": 1.0, "critical": 2.0}  # fmt: skip


async def test_crossing_escalation_recovery_one_notification_each(world: World) -> None:
    await world.monitor(LOAD)
    web = await world.host("web")
    standby = await world.host("spare", "standby")
    for index, value in enumerate([0.5, 1.5, 2.5, 2.6, 0.4]):
        await world.minute(index, {web: value, standby: value})
    bodies = world.receiver.bodies
    assert [(b["host"]["name"], b["alert"]["status"]) for b in bodies] == [
        ("web", "warning"), ("web", "critical"), ("web", "ok"),
    ]  # fmt: skip
    first = bodies[0]
    assert first["event"] == "alert" and first["type"] == "host" and first["orgName"] == "test"
    assert first["alert"]["metricLabel"] == "loadavg5" and first["alert"]["metricValue"] == 1.5
    assert first["alert"]["warningThreshold"] == 1.0 and first["alert"]["monitorOperator"] == ">"
    assert first["alert"]["createdAt"] == first["alert"]["openedAt"] * 1000
    assert first["host"]["roles"][0]["fullname"] == "web:app"
    assert bodies[2]["alert"]["isOpen"] is False and bodies[2]["alert"]["closedAt"] == T0 + 240
    alerts, _ = await world.store.list_alerts(world.org_id, True, None, 100)
    by_host = {a.host_id: a for a in alerts}
    assert by_host[web].status == "OK" and by_host[web].closed_at == T0 + 240
    assert by_host[standby].closed_at is not None  # evaluated, just not notified
    logs, _ = await world.store.alert_logs(world.org_id, by_host[web].id, None, 100)
    assert [log.status for log in reversed(logs)] == ["WARNING", "CRITICAL", "OK"]


async def test_evaluating_a_minute_twice_changes_nothing(world: World) -> None:
    await world.monitor(LOAD)
    web = await world.host("web")
    await world.minute(0, {web: 3.0})
    assert await world.engine.evaluate_minute(T0) == 0
    await world.worker.run_once()
    assert len(world.receiver.bodies) == 1
    assert len(await world.store.open_alerts(world.org_id)) == 1


async def test_hysteresis_folds_an_oscillating_series_into_one_alert(world: World) -> None:
    await world.monitor({**LOAD, "critical": None, "recoveryWarning": 0.8})
    web = await world.host("web")
    for index, value in enumerate([0.9, 1.1, 0.95, 1.05, 0.9, 1.2, 0.5]):
        await world.minute(index, {web: value})
    assert [b["alert"]["status"] for b in world.receiver.bodies] == ["warning", "ok"]


async def test_flap_detector_keeps_one_open_alert_with_a_counter(world: World) -> None:
    await world.monitor({**LOAD, "flapWindowMinutes": 10, "flapThreshold": 3})
    web = await world.host("web")
    for index, value in enumerate([3, 0, 3, 0, 3, 0, 3]):
        await world.minute(index, {web: value})
    alerts, _ = await world.store.list_alerts(world.org_id, True, None, 100)
    assert len(alerts) == 2 and alerts[0].closed_at is None and alerts[0].flap_count == 2


async def test_connectivity_alert_within_six_minutes(world: World) -> None:
    await world.monitor({"type": "connectivity"}, "conn")
    web = await world.host("web")
    for index in range(3):
        await world.minute(index, {web: 0.1})
    opened_at = None
    for index in range(3, 12):
        await world.minute(index, {})
        if world.receiver.bodies:
            opened_at = index
            break
    assert opened_at is not None and 5 <= opened_at - 2 <= 6
    assert world.receiver.bodies[0]["alert"]["status"] == "critical"


async def test_maintenance_host_is_not_evaluated(world: World) -> None:
    await world.monitor(LOAD)
    host = await world.host("db", "maintenance")
    await world.minute(0, {host: 9.0})
    assert await world.store.list_alerts(world.org_id, True, None, 100) == ([], None)


async def test_downtime_suppresses_notifications(world: World) -> None:
    await world.monitor(LOAD)
    web = await world.host("web")
    downtime = {"name": "deploy", "start": T0, "duration": 60, "serviceScopes": ["web"]}
    await world.store.put_document(world.org_id, "downtime", Document("dt", downtime), T0)
    await world.minute(0, {web: 3.0})
    assert world.receiver.bodies == []
    assert len(await world.store.open_alerts(world.org_id)) == 1


async def test_check_reports_open_after_max_attempts(world: World) -> None:
    from sabamon.server.store.records import CheckReport

    web = await world.host("web")
    for index, status in enumerate(["WARNING", "WARNING", "WARNING", "OK"]):
        minute = T0 + index * 60
        report = CheckReport(web, "nginx", status, f"{status} nginx", minute + 5, None, 2)  # type: ignore[arg-type]
        await world.store.write_check_reports(world.org_id, [report], minute + 10)
        world.clock.now = minute + 90
        await world.engine.evaluate_minute(minute)
        await world.engine.evaluate_minute(minute)  # the same report never counts twice
        await world.worker.run_once()
    assert [(b["type"], b["alert"]["status"]) for b in world.receiver.bodies] == [
        ("check", "warning"), ("check", "ok"),
    ]  # fmt: skip
    assert world.receiver.bodies[0]["message"] == "WARNING nginx"
    alerts, _ = await world.store.list_alerts(world.org_id, True, None, 10)
    logs, _ = await world.store.alert_logs(world.org_id, alerts[0].id, None, 10)
    assert logs[-1].status_detail == {
        "type": "check", "detail": {"message": "WARNING nginx", "memo": ""},
    }  # fmt: skip


async def test_the_check_pass_counts_each_report_once_beside_the_minute_cycle(
    world: World,
) -> None:
    """Reports evaluated at once (the fast path) and by the minute cycle, in any order:
    each report is one attempt, so maxCheckAttempts 2 opens on the second WARNING."""
    from sabamon.server.store.records import CheckReport

    web = await world.host("web")
    for index, status in enumerate(["WARNING", "WARNING", "OK"]):
        minute = T0 + index * 60
        report = CheckReport(web, "nginx", status, status, minute + 5, None, 2)  # type: ignore[arg-type]
        world.clock.now = minute + 6
        await world.store.write_check_reports(world.org_id, [report], minute + 6)
        assert await world.engine.evaluate_checks() == 1
        assert await world.engine.evaluate_checks() == 0  # nothing new
        open_alerts = await world.store.open_alerts(world.org_id)
        assert [a.status for a in open_alerts] == {0: [], 1: ["WARNING"], 2: []}[index]
        world.clock.now = minute + 90
        await world.engine.evaluate_minute(minute)  # finds the report evaluated already
        await world.worker.run_once()
    assert [b["alert"]["status"] for b in world.receiver.bodies] == ["warning", "ok"]


async def test_the_check_pass_evaluates_only_owned_check_monitors(world: World) -> None:
    from sabamon.server.store.records import CheckReport

    web = await world.host("web")
    report = CheckReport(web, "nginx", "CRITICAL", "down", T0 + 5, None, 1)  # type: ignore[arg-type]
    world.clock.now = T0 + 6
    await world.store.write_check_reports(world.org_id, [report], T0 + 6)
    (check,) = await world.store.check_states(world.org_id)
    world.engine.owns = lambda monitor_id: monitor_id != check.monitor_id
    assert await world.engine.evaluate_checks() == 0
    world.engine.owns = lambda monitor_id: monitor_id == check.monitor_id
    assert await world.engine.evaluate_checks() == 1
    assert [a.status for a in await world.store.open_alerts(world.org_id)] == ["CRITICAL"]


async def test_service_metric_missing_data_and_expression(world: World) -> None:
    service = {"type": "service", "name": "qps", "service": "web", "metric": "qps",
               "operator": "<", "warning": 10, "missingDurationWarning": 10}  # fmt: skip
    await world.monitor(service, "svc")
    expression = {"type": "expression", "name": "avg load", "operator": ">", "warning": 2,
                  "expression": "avg(roleSlots('web:app', 'loadavg5'))"}  # fmt: skip
    await world.monitor(expression, "expr")
    hosts = [await world.host("a"), await world.host("b")]
    await world.store.series.write_points(
        world.org_id, "service", [Point("web", "qps", T0, 50.0)], T0
    )
    await world.minute(0, {hosts[0]: 1.0, hosts[1]: 2.0})
    assert world.receiver.bodies == []  # qps fine, average load 1.5
    await world.minute(1, {hosts[0]: 3.0, hosts[1]: 2.0})
    [crossed] = world.receiver.bodies
    assert crossed["type"] == "expression" and crossed["alert"]["metricValue"] == 2.5
    for index in range(2, 11):
        await world.minute(index, {hosts[0]: 3.0, hosts[1]: 2.0})
    missing = [b for b in world.receiver.bodies if b["type"] == "service"]
    assert [b["alert"]["status"] for b in missing] == ["warning"]
    assert missing[0]["service"]["name"] == "web" and missing[0]["message"] == "qps has no data"


async def test_connectivity_counts_any_metric(world: World) -> None:
    await world.monitor({"type": "connectivity"}, "conn")
    plugin_only = await world.host("batch")
    for index in range(10):
        minute = T0 + index * 60
        point = Point(plugin_only, "custom.jobs.queued", minute, 1.0)
        await world.store.series.write_points(world.org_id, "host", [point], minute + 50)
        await world.minute(index, {})
    assert world.receiver.bodies == []
    assert await world.store.open_alerts(world.org_id) == []


async def test_host_monitor_judges_a_newest_point_up_to_20_minutes_old(world: World) -> None:
    await world.monitor(LOAD)
    recent, old = await world.host("recent"), await world.host("old")
    points = [
        Point(recent, "loadavg5", T0 - 10 * 60, 3.0),
        Point(old, "loadavg5", T0 - 25 * 60, 3.0),
    ]
    await world.store.series.write_points(world.org_id, "host", points, T0)
    await world.minute(0, {})
    assert [b["host"]["name"] for b in world.receiver.bodies] == ["recent"]
    assert world.receiver.bodies[0]["alert"]["metricValue"] == 3.0
