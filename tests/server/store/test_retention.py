"""Expiry by hour: whole hours past retention go, younger data stays, work stops on request."""

from __future__ import annotations

import asyncio

from tests.server.store.conftest import StoreFactory
from tests.server.store.series_helpers import read_values

from sabamon.server.store import Point, Retention
from sabamon.server.store.sql_series import EXPIRE_CHUNK

DAY = 86400
NOW = 1_700_006_400  # on the hour
RETENTION = Retention(raw_1m=DAY, rollup_5m=2 * DAY, rollup_1h=3 * DAY, rollup_1d=10 * DAY)
SERIES = EXPIRE_CHUNK * 2 + 7  # several chunks per hour


async def test_expiry_deletes_whole_expired_hours_of_every_series(
    make_store: StoreFactory,
) -> None:
    store = make_store(RETENTION)
    await store.open()
    try:
        org, _ = await store.ensure_org("t")
        old = NOW - DAY - 2 * 3600  # two hours past the raw retention
        edge = NOW - DAY + 600  # past retention at NOW + 1800, in the hour the cutoff is in
        for at in (old, old + 120, edge, NOW - 60):
            points = [Point(f"h{s}", "m", at, float(s)) for s in range(SERIES)]
            await store.series.write_points(org.id, "host", points, at)
        await store.series.compact(NOW)

        soon = NOW + 1800
        assert await store.series.expire(soon) == 2 * SERIES  # the two raw points of the old hour
        assert await store.series.expire(soon) == 0
        assert (
            await read_values(store.series, org.id, "host", "h5", "m", old - 600, old + 600) == []
        )
        kept = await read_values(store.series, org.id, "host", "h5", "m", edge - 60, edge + 60)
        assert kept == [(edge, 5.0)]
        hourly = await read_values(store.series, org.id, "host", "h5", "m", NOW - 2 * DAY, NOW)
        assert hourly is not None and hourly[0] == (old - old % 3600, 5.0)  # rollups stay

        assert await store.series.expire(NOW + 3600) == SERIES  # the edge hour's turn
        # a day on: the newest raw points, and the 5-minute buckets of the old and edge hours
        assert await store.series.expire(NOW + DAY + 3 * 3600) == 3 * SERIES
        # past every retention but the daily one: hourly rollups go, daily ones stay
        later = NOW + 8 * DAY
        # the newest 5-minute buckets, and the hourly ones of the three hours written
        assert await store.series.expire(later) == 4 * SERIES
        daily = await read_values(store.series, org.id, "host", "h5", "m", NOW - 300 * DAY, later)
        assert daily is not None and daily[0][0] == old - old % DAY
        assert await store.series.expire(NOW + 20 * DAY) > 0  # the daily buckets at last
        gone = await read_values(store.series, org.id, "host", "h5", "m", NOW - 300 * DAY, later)
        assert gone == []
    finally:
        await store.close()


async def test_maintenance_stops_between_chunks_and_resumes(make_store: StoreFactory) -> None:
    store = make_store(RETENTION)
    await store.open()
    try:
        org, _ = await store.ensure_org("t")
        old = NOW - 2 * DAY - 3600
        points = [Point(f"h{s}", "m", old, 1.0) for s in range(SERIES)]
        await store.series.write_points(org.id, "host", points, old)
        stop = asyncio.Event()
        stop.set()
        assert await store.series.compact(NOW, stop) == 0  # nothing started once stop is set
        assert await store.series.expire(NOW, stop) == 0
        assert await store.series.compact(NOW) == 3 * SERIES
        assert await store.series.expire(NOW, stop) == 0
        assert await store.series.expire(NOW) == 2 * SERIES  # raw point and 5-minute bucket
    finally:
        await store.close()
