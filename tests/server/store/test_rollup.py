"""Rollups give the same averages as raw points, before, during and after `rollup()`."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.server.store.series_helpers import read_values

from sabamon.server.store import Point, Retention, Store

StoreFactory = Callable[..., Store]
NOW = 1_700_006_400
SPANS = {300: 21 * 3600, 3600: 241 * 3600, 86400: 241 * 86400}
_owners = itertools.count()

samples = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3 * 86400),  # seconds before NOW
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


async def _check(make_series_store: StoreFactory, data: list[tuple[int, float]], cut: int) -> None:
    store = make_series_store()
    await store.open()
    try:
        org, _ = await store.ensure_org("t")
        owner = f"h{next(_owners)}"
        written: dict[int, float] = {}
        for ago, value in data:  # written one by one, each "now" just after its point
            t = NOW - ago
            await store.series.write_points(org.id, "host", [Point(owner, "m", t, value)], t + 30)
            written[t] = value

        async def compare() -> None:
            for step, span in SPANS.items():
                got = await read_values(store.series, org.id, "host", owner, "m", NOW - span, NOW)
                assert_close(got, expected(written, NOW - span, NOW, step))

        await compare()  # nothing rolled up: dirty buckets come from raw points
        await store.series.compact(NOW - cut)  # part rolled up, part dirty
        await compare()
        await store.series.compact(NOW + 86400)
        await compare()
        # late overwrites re-roll their buckets
        for ago, value in data[:3]:
            t = NOW - ago
            await store.series.write_points(
                org.id, "host", [Point(owner, "m", t, value + 1)], t + 30
            )
            written[t] = value + 1
        await compare()
        await store.series.compact(NOW + 86400)
        await compare()
    finally:
        await store.close()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=samples, cut=st.integers(min_value=0, max_value=3 * 86400))
def test_rollups_equal_raw_averages(
    make_sql_series_store: StoreFactory, data: list[tuple[int, float]], cut: int
) -> None:
    asyncio.run(_check(make_sql_series_store, data, cut))


async def test_rollup_counts_buckets_and_is_incremental(store: Store, org_id: str) -> None:
    points = [Point("h", "m", NOW - 600 + 60 * i, 1.0) for i in range(10)]
    await store.series.write_points(org_id, "host", points, NOW)
    assert await store.series.compact(NOW) == 2 + 1 + 1  # two 5-minute buckets, their hour and day
    assert await store.series.compact(NOW) == 0


async def test_expire_drops_each_resolution_after_its_retention(make_store: StoreFactory) -> None:
    day = 86400
    retention = Retention(raw_1m=day, rollup_5m=2 * day, rollup_1h=3 * day, rollup_1d=10 * day)
    store = make_store(retention)
    await store.open()
    try:
        org, _ = await store.ensure_org("t")
        t0 = NOW - 4 * day
        await store.series.write_points(org.id, "host", [Point("h", "m", t0, 2.0)], t0)
        await store.series.write_points(org.id, "host", [Point("h", "m", NOW, 4.0)], NOW)
        await store.series.compact(NOW + 3600)
        deleted = await store.series.expire(NOW)
        assert deleted == 3  # t0's raw point, its 5-minute and its 1-hour bucket
        assert await read_values(store.series, org.id, "host", "h", "m", t0, t0 + 3600) == []
        hourly = await read_values(store.series, org.id, "host", "h", "m", t0, t0 + 241 * 3600)
        assert hourly == [(NOW, 4.0)]
        daily = await read_values(store.series, org.id, "host", "h", "m", NOW - 241 * day, NOW)
        assert daily == [(t0, 2.0), (NOW, 4.0)]
        assert await store.series.expire(NOW) == 0
    finally:
        await store.close()
