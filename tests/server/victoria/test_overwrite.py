"""A later write of the same (series, second) wins in VictoriaMetrics too: the sample's
millisecond inside its second grows with the time the write arrives, and deduplication at
one second keeps the biggest timestamp."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.server.victoria.visible import VisibleAtOnce

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.store.records import Point

pytestmark = pytest.mark.victoria

T = 1_700_006_400


@pytest.fixture
async def series(own_victoria: VictoriaProcess) -> AsyncIterator[VisibleAtOnce]:
    store = VisibleAtOnce(own_victoria, clock=lambda: T + 86400)
    await store.open()
    yield store
    await store.close()


@pytest.mark.parametrize(
    "rewrites",
    [
        [(5, 9.0), (6, 1.0)],  # a smaller value a second later wins
        [(5, 1.0), (6, 9.0)],
        [(59, 3.0), (600, 2.0), (601, 7.0), (3600, 4.0), (86400, 5.0)],
        [(-30, 1.0), (1, 2.0)],  # posted ahead of its time, then corrected
    ],
)
async def test_the_latest_write_of_a_second_wins(
    series: VisibleAtOnce, rewrites: list[tuple[int, float]]
) -> None:
    for delay, value in rewrites:
        await series.write_points("o", "host", [Point("h", "m", T, value)], T + delay)
    want = rewrites[-1][1]
    got = await series.read_points("o", "host", "h", "m", T - 60, T)
    assert got is not None and got.points == [(T, want)]
    recent = await series.recent_points("o", "host", ["m"], T, T)
    assert recent == {("h", "m"): [(T, want)]}
    assert await series.latest_points("o", ["h"], ["m"]) == {"h": {"m": (T, want)}}
