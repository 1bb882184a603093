"""Alert storage on both backends: definitions, idempotent commits, paging, deliveries."""

from __future__ import annotations

import pytest

from sabamon.server.store import Store
from sabamon.server.store.records import (
    AlertLogRecord,
    AlertRecord,
    Document,
    NewDelivery,
    NotFound,
    Point,
    TargetWrite,
    new_id,
)


async def test_documents_round_trip(store: Store, org_id: str) -> None:
    doc = Document("mon1", {"type": "host", "name": "cpu", "metric": "cpu%"})
    await store.put_document(org_id, "monitor", doc, 100)
    assert await store.get_document(org_id, "monitor", "mon1") == doc
    doc.spec["name"] = "cpu2"
    await store.put_document(org_id, "monitor", doc, 200)
    assert [d.spec["name"] for d in await store.list_documents(org_id, "monitor")] == ["cpu2"]
    assert (await store.delete_document(org_id, "monitor", "mon1")).spec["name"] == "cpu2"
    with pytest.raises(NotFound, match="Monitor 'mon1' not found"):
        await store.get_document(org_id, "monitor", "mon1")
    assert await store.list_documents(org_id, "channel") == []


def _write(minute: int, alert: AlertRecord) -> TargetWrite:
    log = AlertLogRecord(new_id(), alert.id, minute, alert.status, "monitoring", "mon1")
    return TargetWrite(
        "mon1", "host1", minute, {"last_minute": minute}, [alert], [log],
        [NewDelivery("chan1", f"{alert.id}:{minute}", {"n": minute})],
    )  # fmt: skip


async def test_commit_is_idempotent_per_target_and_minute(store: Store, org_id: str) -> None:
    alert = AlertRecord("al1", "mon1", "host1", "host", "host1", "WARNING", 60, value=3.0)
    assert await store.commit_targets(org_id, [_write(60, alert)], 61) == 1
    again = AlertRecord("al2", "mon1", "host1", "host", "host1", "WARNING", 60)
    assert await store.commit_targets(org_id, [_write(60, again)], 62) == 0
    assert [a.id for a in await store.open_alerts(org_id)] == ["al1"]
    assert len(await store.list_deliveries(org_id)) == 1
    assert await store.target_states(org_id) == {("mon1", "host1"): {"last_minute": 60}}
    alert.status = "CRITICAL"
    assert await store.commit_targets(org_id, [_write(120, alert)], 121) == 1
    assert (await store.get_alert(org_id, "al1")).status == "CRITICAL"
    logs, _ = await store.alert_logs(org_id, "al1", None, 10)
    assert [log.status for log in logs] == ["CRITICAL", "WARNING"]


async def test_alert_paging_newest_first(store: Store, org_id: str) -> None:
    writes = [
        TargetWrite("mon1", f"h{i}", 60, {}, [AlertRecord(f"a{i}", "mon1", f"h{i}", "host",
                    f"h{i}", "CRITICAL", 60)]) for i in range(5)
    ]  # fmt: skip
    await store.commit_targets(org_id, writes, 60)
    closed = await store.close_alerts(
        org_id, [await store.get_alert(org_id, "a0")], "done", "manual", 70
    )
    assert closed[0].closed_at == 70 and closed[0].reason == "done"
    page, next_id = await store.list_alerts(org_id, False, None, 3)
    assert [a.id for a in page] == ["a4", "a3", "a2"] and next_id == "a1"
    page, next_id = await store.list_alerts(org_id, False, next_id, 3)
    assert [a.id for a in page] == ["a1"] and next_id is None
    page, _ = await store.list_alerts(org_id, True, "a1", 3)
    assert [a.id for a in page] == ["a1", "a0"]


async def test_delivery_queue(store: Store, org_id: str) -> None:
    await store.enqueue_deliveries(org_id, [NewDelivery("c1", "e1", {"x": 1})] * 2, 100)
    due = await store.claim_deliveries(100, 60, 10)
    assert [(d.channel_id, d.payload, d.attempts) for d in due] == [("c1", {"x": 1}, 0)]
    assert await store.claim_deliveries(100, 60, 10) == []  # claimed until 160
    await store.finish_delivery(due[0].id, "pending", 1, 160, "HTTP 503", 100)
    assert await store.claim_deliveries(159, 60, 10) == []
    again = await store.claim_deliveries(160, 60, 10)
    await store.finish_delivery(again[0].id, "sent", 2, 160, None, 160)
    logged = (await store.list_deliveries(org_id, "c1"))[0]
    assert (logged.state, logged.attempts, logged.sent_at) == ("sent", 2, 160)


async def test_recent_points_by_name_and_pattern(store: Store, org_id: str) -> None:
    from sabamon.server.store.records import HostInput

    host = await store.create_host(org_id, HostInput(name="h"), 1000)
    points = [
        Point(host, "loadavg5", 1000, 1.0),
        Point(host, "loadavg5", 1060, 2.0),
        Point(host, "filesystem.sda1.used", 1060, 5.0),
        Point(host, "memory.used", 1060, 5.0),
    ]
    await store.series.write_points(org_id, "host", points, 1060)
    got = await store.series.recent_points(
        org_id, "host", ["loadavg5", "filesystem.*.used"], 1000, 1060
    )
    assert got == {
        (host, "loadavg5"): [(1000, 1.0), (1060, 2.0)],
        (host, "filesystem.sda1.used"): [(1060, 5.0)],
    }


async def test_target_states_of_one_host(store: Store, org_id: str) -> None:
    writes = [TargetWrite(m, h, 60, {"level": "OK"}) for m in ("m1", "m2") for h in ("h1", "h2")]
    await store.commit_targets(org_id, writes, 60)
    assert set(await store.target_states(org_id, "h1")) == {("m1", "h1"), ("m2", "h1")}
    assert len(await store.target_states(org_id)) == 4


async def test_host_last_seen_follows_the_newest_point_of_any_metric(
    store: Store, org_id: str
) -> None:
    from sabamon.server.store.records import HostInput

    host = await store.create_host(org_id, HostInput(name="h"), 1000)
    await store.series.write_points(
        org_id, "host", [Point(host, "custom.plugin.x", 1060, 1.0)], 1070
    )
    assert await store.series.host_last_seen(org_id) == {host: 1060}
    await store.series.write_points(org_id, "host", [Point(host, "loadavg5", 1000, 1.0)], 1080)
    assert await store.series.host_last_seen(org_id) == {host: 1060}  # an older point keeps it
    await store.series.write_points(org_id, "host", [Point(host, "loadavg5", 9000, 1.0)], 1120)
    assert await store.series.host_last_seen(org_id) == {host: 1120}  # a future time counts as now
    await store.series.write_points(org_id, "service", [Point("web", "qps", 1200, 1.0)], 1200)
    assert await store.series.host_last_seen(org_id) == {host: 1120}
