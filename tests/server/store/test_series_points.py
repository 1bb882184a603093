"""The shared series suite: every series backend (conftest's `SERIES_BACKENDS`) passes it."""

from __future__ import annotations

from tests.server.store.series_helpers import NOW, read_values

from sabamon.server.store import Point, WriteResult
from sabamon.server.store.series_store import SeriesStore

ORG = "org1"


async def test_write_is_idempotent_and_overwrites(series: SeriesStore) -> None:
    host_id = "a"
    first = [Point(host_id, "loadavg5", NOW - 120, 1.0), Point(host_id, "loadavg5", NOW - 60, 2.0)]
    assert await series.write_points(ORG, "host", first, NOW) == WriteResult(2, 0)
    await series.write_points(ORG, "host", first, NOW)  # a retried batch
    await series.write_points(ORG, "host", [Point(host_id, "loadavg5", NOW - 60, 5.0)], NOW)
    got = await read_values(series, ORG, "host", host_id, "loadavg5", NOW - 3600, NOW)
    assert got == [(NOW - 120, 1.0), (NOW - 60, 5.0)]


async def test_points_beyond_24_hours_are_dropped_and_counted(series: SeriesStore) -> None:
    points = [
        Point("h", "m", NOW - 86400, 1.0),  # exactly 24 h: kept
        Point("h", "m", NOW - 86401, 2.0),
        Point("h", "m", NOW + 86400, 3.0),
        Point("h", "m", NOW + 86401, 4.0),
    ]
    assert await series.write_points(ORG, "host", points, NOW) == WriteResult(2, 2)
    got = await read_values(series, ORG, "host", "h", "m", NOW - 86400, NOW - 86400 + 60)
    assert got == [(NOW - 86400, 1.0)]


async def test_read_unknown_metric_is_none_and_empty_range_is_empty(series: SeriesStore) -> None:
    assert await read_values(series, ORG, "host", "h", "nope", NOW - 60, NOW) is None
    await series.write_points(ORG, "host", [Point("h", "m", NOW, 1.0)], NOW)
    assert await read_values(series, ORG, "host", "h", "m", NOW - 7200, NOW - 3600) == []


async def test_read_step_follows_the_span(series: SeriesStore) -> None:
    # one point a minute for 24 h: values 0..1439
    for start in range(0, 1440, 360):
        batch = [Point("h", "m", NOW - 86400 + 60 * i, float(i)) for i in range(start, start + 360)]
        await series.write_points(ORG, "host", batch, NOW)
    frm = NOW - 86400

    one_minute = await read_values(series, ORG, "host", "h", "m", frm, frm + 20 * 3600)
    assert one_minute is not None and len(one_minute) == 1201
    assert one_minute[:2] == [(frm, 0.0), (frm + 60, 1.0)]

    five = await read_values(series, ORG, "host", "h", "m", frm, frm + 20 * 3600 + 1)
    assert five is not None and five[0] == (frm, 2.0) and five[1] == (frm + 300, 7.0)

    hourly = await read_values(series, ORG, "host", "h", "m", frm, frm + 240 * 3600 + 1)
    assert hourly is not None and len(hourly) == 24 and hourly[0] == (frm, 29.5)

    daily = await read_values(series, ORG, "host", "h", "m", frm, frm + 240 * 86400 + 1)
    assert daily == [(frm, 719.5)]
    await series.compact(NOW + 86400)
    assert await read_values(series, ORG, "host", "h", "m", frm, frm + 240 * 86400 + 1) == daily


async def test_latest_points_and_metric_names(series: SeriesStore) -> None:
    await series.write_points(
        ORG,
        "host",
        [
            Point("h1", "cpu", NOW - 120, 1.0),
            Point("h1", "cpu", NOW - 60, 2.0),
            Point("h1", "mem", NOW - 60, 3.0),
            Point("h2", "cpu", NOW - 60, 4.0),
        ],
        NOW,
    )
    latest = await series.latest_points(ORG, ["h1", "h2", "h3"], ["cpu", "mem"])
    assert latest == {
        "h1": {"cpu": (NOW - 60, 2.0), "mem": (NOW - 60, 3.0)},
        "h2": {"cpu": (NOW - 60, 4.0), "mem": None},
        "h3": {"cpu": None, "mem": None},
    }
    assert await series.metric_names(ORG, "host", "h1") == ["cpu", "mem"]
    assert await series.metric_names(ORG, "service", "h1") == []


async def test_service_metrics_hide_external_response_times(series: SeriesStore) -> None:
    points = [Point("shop", "orders", NOW, 3.0), Point("shop", "__externalhttp.x.abc", NOW, 1.0)]
    await series.write_points(ORG, "service", points, NOW)
    assert await series.metric_names(ORG, "service", "shop") == ["orders"]
    got = await read_values(series, ORG, "service", "shop", "orders", NOW - 60, NOW)
    assert got == [(NOW, 3.0)]
    assert await read_values(series, ORG, "host", "shop", "orders", NOW - 60, NOW) is None


async def test_read_returns_the_step_it_used(series: SeriesStore) -> None:
    await series.write_points(ORG, "host", [Point("h", "m", NOW - 60, 1.0)], NOW)
    for span, step in (
        (20 * 3600, 60),
        (240 * 3600, 300),
        (240 * 86400, 3600),
        (241 * 86400, 86400),
    ):
        got = await series.read_points(ORG, "host", "h", "m", NOW - span, NOW)
        assert got is not None and got.step == step


async def test_points_keep_their_second_and_one_call_last_wins(series: SeriesStore) -> None:
    points = [Point("h", "m", NOW - 59, 1.0), Point("h", "m", NOW - 59, 2.0)]
    assert await series.write_points(ORG, "host", points, NOW) == WriteResult(2, 0)
    assert await read_values(series, ORG, "host", "h", "m", NOW - 600, NOW) == [(NOW - 60, 2.0)]
    assert await series.latest_points(ORG, ["h"], ["m"]) == {"h": {"m": (NOW - 59, 2.0)}}


async def test_recent_points_match_names_segments_and_owners(series: SeriesStore) -> None:
    points = [
        Point("h1", "filesystem.sda.used", NOW - 120, 1.0),
        Point("h1", "filesystem.sda.used", NOW - 60, 2.0),
        Point("h1", "filesystem.sda.size", NOW - 60, 9.0),
        Point("h2", "filesystem.sdb.used", NOW - 60, 3.0),
        Point("h2", "loadavg5", NOW - 60, 4.0),
        Point("h2", "loadavg5", NOW - 3600, 5.0),
    ]
    await series.write_points(ORG, "host", points, NOW)
    got = await series.recent_points(ORG, "host", ["filesystem.*.used", "loadavg5"], NOW - 600, NOW)
    assert got == {
        ("h1", "filesystem.sda.used"): [(NOW - 120, 1.0), (NOW - 60, 2.0)],
        ("h2", "filesystem.sdb.used"): [(NOW - 60, 3.0)],
        ("h2", "loadavg5"): [(NOW - 60, 4.0)],
    }
    only = await series.recent_points(ORG, "host", ["loadavg5"], NOW - 7200, NOW - 61, ["h2"])
    assert only == {("h2", "loadavg5"): [(NOW - 3600, 5.0)]}
    assert await series.recent_points(ORG, "host", ["loadavg5"], NOW - 600, NOW, []) == {}
    assert await series.recent_points(ORG, "service", ["loadavg5"], NOW - 600, NOW) == {}
    assert await series.recent_points("other", "host", ["loadavg5"], NOW - 600, NOW) == {}


async def test_host_last_seen_is_the_newest_point_capped_at_now(series: SeriesStore) -> None:
    await series.write_points(ORG, "host", [Point("h1", "a", NOW - 120, 1.0)], NOW)
    await series.write_points(ORG, "host", [Point("h1", "b", NOW - 60, 1.0)], NOW)
    await series.write_points(ORG, "host", [Point("h1", "a", NOW - 600, 1.0)], NOW)  # late
    await series.write_points(ORG, "host", [Point("h2", "a", NOW + 300, 1.0)], NOW)  # ahead
    await series.write_points(ORG, "service", [Point("shop", "a", NOW, 1.0)], NOW)
    assert await series.host_last_seen(ORG) == {"h1": NOW - 60, "h2": NOW}


async def test_delete_series_removes_named_or_all(series: SeriesStore) -> None:
    points = [Point("shop", name, NOW - 60, 1.0) for name in ("a", "b", "c")]
    await series.write_points(ORG, "service", points, NOW)
    await series.compact(NOW + 3600)
    assert await series.delete_series(ORG, "service", "shop", ["a", "zz"]) == 1
    assert await series.metric_names(ORG, "service", "shop") == ["b", "c"]
    assert await read_values(series, ORG, "service", "shop", "a", NOW - 86400 * 30, NOW) is None
    assert await series.delete_series(ORG, "service", "shop") == 2
    assert await series.metric_names(ORG, "service", "shop") == []
    # written again, a deleted series starts empty
    await series.write_points(ORG, "service", [Point("shop", "b", NOW, 7.0)], NOW)
    got = await read_values(series, ORG, "service", "shop", "b", NOW - 86400 * 30, NOW)
    assert got == [(NOW - NOW % 3600, 7.0)]
