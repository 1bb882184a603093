from __future__ import annotations

from sabamon.server.store import HostInput, Point, Store, WriteResult

NOW = 1_700_006_400  # a multiple of 86400: buckets of every size start here


async def test_write_is_idempotent_and_overwrites(store: Store, org_id: str) -> None:
    host_id = await store.create_host(org_id, HostInput(name="a"), NOW)
    first = [Point(host_id, "loadavg5", NOW - 120, 1.0), Point(host_id, "loadavg5", NOW - 60, 2.0)]
    assert await store.write_points(org_id, "host", first, NOW) == WriteResult(2, 0)
    await store.write_points(org_id, "host", first, NOW)  # a retried batch
    await store.write_points(org_id, "host", [Point(host_id, "loadavg5", NOW - 60, 5.0)], NOW)
    got = await store.read_points(org_id, "host", host_id, "loadavg5", NOW - 3600, NOW)
    assert got == [(NOW - 120, 1.0), (NOW - 60, 5.0)]


async def test_points_beyond_24_hours_are_dropped_and_counted(store: Store, org_id: str) -> None:
    points = [
        Point("h", "m", NOW - 86400, 1.0),  # exactly 24 h: kept
        Point("h", "m", NOW - 86401, 2.0),
        Point("h", "m", NOW + 86400, 3.0),
        Point("h", "m", NOW + 86401, 4.0),
    ]
    assert await store.write_points(org_id, "host", points, NOW) == WriteResult(2, 2)
    got = await store.read_points(org_id, "host", "h", "m", NOW - 86400, NOW - 86400 + 60)
    assert got == [(NOW - 86400, 1.0)]


async def test_read_unknown_metric_is_none_and_empty_range_is_empty(
    store: Store, org_id: str
) -> None:
    assert await store.read_points(org_id, "host", "h", "nope", NOW - 60, NOW) is None
    await store.write_points(org_id, "host", [Point("h", "m", NOW, 1.0)], NOW)
    assert await store.read_points(org_id, "host", "h", "m", NOW - 7200, NOW - 3600) == []


async def test_read_step_follows_the_span(store: Store, org_id: str) -> None:
    # one point a minute for 24 h: values 0..1439
    for start in range(0, 1440, 360):
        batch = [Point("h", "m", NOW - 86400 + 60 * i, float(i)) for i in range(start, start + 360)]
        await store.write_points(org_id, "host", batch, NOW)
    frm = NOW - 86400

    one_minute = await store.read_points(org_id, "host", "h", "m", frm, frm + 20 * 3600)
    assert one_minute is not None and len(one_minute) == 1201
    assert one_minute[:2] == [(frm, 0.0), (frm + 60, 1.0)]

    five = await store.read_points(org_id, "host", "h", "m", frm, frm + 20 * 3600 + 1)
    assert five is not None and five[0] == (frm, 2.0) and five[1] == (frm + 300, 7.0)

    hourly = await store.read_points(org_id, "host", "h", "m", frm, frm + 240 * 3600 + 1)
    assert hourly is not None and len(hourly) == 24 and hourly[0] == (frm, 29.5)

    daily = await store.read_points(org_id, "host", "h", "m", frm, frm + 240 * 86400 + 1)
    assert daily == [(frm, 719.5)]
    await store.rollup(NOW + 86400)
    assert await store.read_points(org_id, "host", "h", "m", frm, frm + 240 * 86400 + 1) == daily


async def test_latest_points_and_metric_names(store: Store, org_id: str) -> None:
    await store.write_points(
        org_id,
        "host",
        [
            Point("h1", "cpu", NOW - 120, 1.0),
            Point("h1", "cpu", NOW - 60, 2.0),
            Point("h1", "mem", NOW - 60, 3.0),
            Point("h2", "cpu", NOW - 60, 4.0),
        ],
        NOW,
    )
    latest = await store.latest_points(org_id, ["h1", "h2", "h3"], ["cpu", "mem"])
    assert latest == {
        "h1": {"cpu": (NOW - 60, 2.0), "mem": (NOW - 60, 3.0)},
        "h2": {"cpu": (NOW - 60, 4.0), "mem": None},
        "h3": {"cpu": None, "mem": None},
    }
    assert await store.metric_names(org_id, "host", "h1") == ["cpu", "mem"]
    assert await store.metric_names(org_id, "service", "h1") == []


async def test_service_metrics_hide_external_response_times(store: Store, org_id: str) -> None:
    await store.create_service(org_id, "shop", "")
    points = [Point("shop", "orders", NOW, 3.0), Point("shop", "__externalhttp.x.abc", NOW, 1.0)]
    await store.write_points(org_id, "service", points, NOW)
    assert await store.metric_names(org_id, "service", "shop") == ["orders"]
    got = await store.read_points(org_id, "service", "shop", "orders", NOW - 60, NOW)
    assert got == [(NOW, 3.0)]
    assert await store.read_points(org_id, "host", "shop", "orders", NOW - 60, NOW) is None
