"""VictoriaMetrics answers every read with the numbers the SQLite backend gives on the
same points: each step of Mackerel's rule, bucket edges, irregular seconds, several points
a bucket, reads starting and ending mid-bucket."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.store import Store
from sabamon.server.store.records import Point
from sabamon.server.store.series_store import SeriesStore, step_for_span
from sabamon.server.store.sqlite import SQLiteBackend
from sabamon.server.victoria.endpoints import single_node
from sabamon.server.victoria.store import VictoriaSeriesStore

pytestmark = pytest.mark.victoria

NOW = 1_700_006_400 + 12_345  # not on any bucket edge
SPANS = [3600, 20 * 3600, 20 * 3600 + 1, 7 * 86400, 240 * 3600 + 1, 100 * 86400, 400 * 86400]


@pytest.fixture
async def pair(
    tmp_path: Path, own_victoria: VictoriaProcess
) -> AsyncIterator[tuple[SeriesStore, SeriesStore]]:
    """(SQLite, VictoriaMetrics) series stores; VictoriaMetrics' buffers are flushed once,
    after the writes (a flush a write costs a sync to disk)."""
    victoria_series = VictoriaSeriesStore(single_node(own_victoria.url), clock=lambda: NOW)
    sqlite = Store(SQLiteBackend(tmp_path / "a.db"))
    victoria = Store(SQLiteBackend(tmp_path / "b.db"), series_store=victoria_series)
    await sqlite.open()
    await victoria.open()
    yield sqlite.series, victoria.series
    await victoria.close()
    await sqlite.close()


def history(rng: random.Random) -> list[Point]:
    """~420 days of one series: runs of points at irregular seconds, sometimes several a
    minute, values with up to 12 significant digits (what VictoriaMetrics keeps)."""
    points = []
    at = NOW - 420 * 86400
    while at <= NOW:
        points.append(Point("h", "custom.a.b", at, round(rng.uniform(-50, 5000), 3)))
        at += rng.choice([1, 7, 59, 60, 60, 60, 61, 300, 3599, 3600 * 7])
    return points


async def test_reads_equal_sqlite_on_the_same_points(
    pair: tuple[SeriesStore, SeriesStore], own_victoria: VictoriaProcess
) -> None:
    rng = random.Random(16)
    points = history(rng)
    for series in pair:
        # a day a write, inside the ±24 h window of its `now`
        for day in range(points[0].time // 86400, NOW // 86400 + 1):
            batch = [p for p in points if p.time // 86400 == day]
            if batch:
                assert (await series.write_points("o", "host", batch, day * 86400)).accepted
    own_victoria.flush()
    sqlite, victoria = pair
    checked = 0
    for span in SPANS:
        for _ in range(4):
            to = NOW - rng.randint(0, 3 * 86400)
            frm = to - span
            want = await sqlite.read_points("o", "host", "h", "custom.a.b", frm, to)
            got = await victoria.read_points("o", "host", "h", "custom.a.b", frm, to)
            assert want is not None and got is not None
            assert got.step == want.step == step_for_span(span)
            assert [t for t, _ in got.points] == [t for t, _ in want.points]
            assert [v for _, v in got.points] == pytest.approx(
                [v for _, v in want.points], rel=1e-12
            )
            checked += len(want.points)
    assert checked > 5000
