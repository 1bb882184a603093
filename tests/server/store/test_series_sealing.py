"""Head and sealed chunks read the same as rows; averages of every step equal the raw
averages, before, during and after sealing, after late overwrites of sealed windows and
after raw data has turned into rollup chunks. Part of the shared series suite."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.server.store.series_helpers import read_values

from sabamon.server.store import Point, Retention, Store, seal
from sabamon.server.store.ops import Query, single

StoreFactory = Callable[..., Store]
NOW = 1_700_006_400
DAY = 86400
SPANS = {300: 21 * 3600, 3600: 241 * 3600, 86400: 241 * DAY}
RAW_SPAN = 20 * 3600
_owners = itertools.count()

samples = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3 * DAY),  # seconds before NOW
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    ),
    min_size=1,
    max_size=60,
)


def expected(points: dict[int, float], frm: int, to: int, step: int) -> list[tuple[int, float]]:
    buckets: dict[int, list[float]] = defaultdict(list)
    for t, v in points.items():
        bucket = t - t % step
        if frm - frm % step <= bucket <= to:
            buckets[bucket].append(v)
    return [(b, sum(vs) / len(vs)) for b, vs in sorted(buckets.items())]


def assert_close(got: list[tuple[int, float]] | None, want: list[tuple[int, float]]) -> None:
    assert got is not None
    assert [b for b, _ in got] == [b for b, _ in want]
    for (_, g), (_, w) in zip(got, want, strict=True):
        assert abs(g - w) <= 1e-9 * max(1.0, abs(w))


async def _check(
    make_sql_series_store: StoreFactory, data: list[tuple[int, float]], cut: int
) -> None:
    store = make_sql_series_store(Retention(raw_1m=5 * DAY))
    await store.open()
    series = store.series
    try:
        owner = f"h{next(_owners)}"
        written: dict[int, float] = {}
        for ago, value in data:  # written one by one, each "now" just after its point
            t = NOW - ago
            await series.write_points("o", "host", [Point(owner, "m", t, value)], t + 30)
            written[t] = value

        async def compare(raw: bool = True) -> None:
            for step, span in SPANS.items():
                got = await read_values(series, "o", "host", owner, "m", NOW - span, NOW)
                assert_close(got, expected(written, NOW - span, NOW, step))
            for end in range(NOW, NOW - 4 * DAY, -RAW_SPAN) if raw else ():
                got = await read_values(series, "o", "host", owner, "m", end - RAW_SPAN, end)
                assert_close(got, expected(written, end - RAW_SPAN, end, 60))

        await compare()  # all in the head: the row layout
        await series.compact(NOW - cut)  # part sealed in hour or day chunks, part in the head
        await compare()
        await series.compact(NOW + DAY)  # all sealed in day chunks
        await compare()
        for ago, value in data[:3]:  # late overwrites of sealed windows wait in the head
            t = NOW - ago
            await series.write_points("o", "host", [Point(owner, "m", t, value + 1)], t + 30)
            written[t] = value + 1
        await compare()
        await series.compact(NOW + DAY)  # ... and reseal their windows
        await compare()
        await series.compact(NOW + 9 * DAY)  # raw data past retention: 5-minute rollups
        await compare(raw=False)
        got = await read_values(series, "o", "host", owner, "m", NOW - RAW_SPAN, NOW)
        assert got == []
    finally:
        await store.close()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=samples, cut=st.integers(min_value=0, max_value=3 * DAY))
def test_every_step_equals_raw_averages_through_sealing(
    make_sql_series_store: StoreFactory, data: list[tuple[int, float]], cut: int
) -> None:
    asyncio.run(_check(make_sql_series_store, data, cut))


async def test_compact_seals_closed_hours_then_days_and_is_incremental(store: Store) -> None:
    series, now = store.series, NOW + 6 * 3600
    points = [Point("h", "m", now - 7200 + 60 * i, float(i)) for i in range(120)]
    await series.write_points("o", "host", points, now)
    assert await series.compact(now) == 60  # the hour that closed at `now` waits 5 minutes
    assert await series.compact(now + 299) == 0
    assert await series.compact(now + 300) == 60
    assert await series.compact(now + 300) == 0
    assert await series.compact(NOW + DAY + 300) == 120  # the day's hour chunks merged
    assert await series.compact(NOW + DAY + 300) == 0
    got = await read_values(series, "o", "host", "h", "m", now - 7200, now)
    assert got == [(p.time, p.value) for p in points]


async def test_a_run_seals_each_mark_once_while_a_backlog_keeps_landing(store: Store) -> None:
    """Points replayed in minute order keep landing in a closed hour while a compaction run
    seals it: the run moves past each mark it has sealed (ingest is not starved by the same
    window sealed again and again), and the next run seals what came meanwhile."""
    series, now = store.series, NOW + 6 * 3600
    hour = now - 3 * 3600

    async def replay(minute: int) -> None:
        point = Point("h", "m", hour + 60 * minute, float(minute))
        await series.write_points("o", "host", [point], now, earliest=hour)

    await replay(0)
    cursor = seal.SealCursor()
    assert await store.backend.write(seal.seal_chunk(now, 500, cursor)) == 1
    await replay(1)  # lands in the window just sealed
    assert await store.backend.write(seal.seal_chunk(now, 500, cursor)) == -1  # this run is done
    assert await series.compact(now) == 2  # the next run seals the hour again, with it
    got = await read_values(series, "o", "host", "h", "m", hour, hour + 3540)
    assert got == [(hour, 0.0), (hour + 60, 1.0)]


async def test_expiry_turns_raw_into_rollups_then_deletes_them(make_store: StoreFactory) -> None:
    store = make_store(
        Retention(raw_1m=DAY, rollup_5m=2 * DAY, rollup_1h=2 * DAY, rollup_1d=3 * DAY)
    )
    await store.open()
    series = store.series
    try:
        t0 = NOW - DAY
        points = [Point("h", "m", t0 + 60 * i, float(i)) for i in range(10)]
        await series.write_points("o", "host", points, NOW)
        await series.compact(NOW + 3600)
        five = await read_values(series, "o", "host", "h", "m", t0, t0 + 21 * 3600)
        assert five == [(t0, 2.0), (t0 + 300, 7.0)]
        assert await series.compact(NOW + DAY) == 1  # one raw chunk downsampled
        assert await read_values(series, "o", "host", "h", "m", t0, t0 + 3600) == []
        assert await read_values(series, "o", "host", "h", "m", t0, t0 + 21 * 3600) == five
        daily = await read_values(series, "o", "host", "h", "m", t0 - 240 * DAY, t0 + 3600)
        assert daily == [(t0, 4.5)]
        assert await series.expire(NOW + 3 * DAY - 1) == 0
        assert await series.expire(NOW + 3 * DAY) == 1  # its day ended 3 days ago
        assert await read_values(series, "o", "host", "h", "m", t0 - 240 * DAY, t0 + 3600) == []
    finally:
        await store.close()


async def test_a_head_of_many_buckets_reads_whole(store: Store) -> None:
    """Late points spread over two days (more five-minute buckets than one statement names)
    read back whole and in order, next to another series, and go with their series."""
    series = store.series
    points = [Point("h", "m", NOW - 86400 * 2 + 300 * i, float(i)) for i in range(577)]
    other = [Point("g", "m", NOW - 60, -1.0)]
    await series.write_points("o", "host", [*points, *other], NOW, earliest=NOW - 86400 * 2)
    got = await series.recent_points("o", "host", ["m"], NOW - 86400 * 2, NOW)
    assert got == {("g", "m"): [(NOW - 60, -1.0)], ("h", "m"): [(p.time, p.value) for p in points]}
    assert await series.latest_points("o", ["h"], ["m"]) == {"h": {"m": (NOW, 576.0)}}
    # a series whose only point lies in the oldest bucket, 576 newer buckets away
    oldest = Point("k", "m", NOW - 86400 * 2, 9.0)
    await series.write_points("o", "host", [oldest], NOW, earliest=NOW - 86400 * 2)
    assert await series.latest_points("o", ["k"], ["m"]) == {"k": {"m": (oldest.time, 9.0)}}
    await series.delete_series("o", "host", "k")
    assert await series.delete_series("o", "host", "h") == 1
    assert await store.backend.read(single(Query("SELECT count(*) FROM points"))) == [(1,)]
    assert await series.recent_points("o", "host", ["m"], NOW - 86400 * 2, NOW) == {
        ("g", "m"): [(NOW - 60, -1.0)]
    }
