"""Coalesced point writes when a shared transaction fails: every other batch is still
written, and no series id from the rolled-back transaction stays in the cache."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence

import pytest
from tests.server.store.series_helpers import read_values

from sabamon.server.store import Point, Store, WriteResult, coalesce
from sabamon.server.store.ops import Query, Step
from sabamon.server.store.series import PointBatch, SeriesCounts, write_point_batches

NOW = 1_700_006_400


def failing_on_poison(
    batches: Sequence[PointBatch],
    cache: coalesce.SeriesCache,
    created: coalesce.SeriesIds,
    counts: SeriesCounts,
) -> Step[list[WriteResult]]:
    """The real write, then a statement the database refuses whenever a batch posts a
    `poison.*` metric: the transaction fails after its series rows were inserted."""
    results = yield from write_point_batches(batches, cache, created, counts)
    if any(p.name.startswith("poison.") for batch in batches for p in batch.points):
        yield Query("SELECT no_such_column FROM series", ())
    return results


async def test_a_failed_shared_write_fails_alone_and_caches_no_rolled_back_series(
    store: Store, org_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(coalesce, "write_point_batches", failing_on_poison)
    queue = coalesce.PointWriteQueue(
        store.backend.write,
        store.sql_series.cache,
        store.sql_series.counts,
        flushers=1,
        max_points=10_000,
    )
    queue.start()
    try:
        batches = [
            PointBatch(org_id, "host", [Point("h1", "good.a", NOW, 1.0)], NOW, NOW - 86400),
            PointBatch(org_id, "host", [Point("h1", "poison.b", NOW, 2.0)], NOW, NOW - 86400),
            PointBatch(org_id, "host", [Point("h2", "good.c", NOW, 3.0)], NOW, NOW - 86400),
        ]
        # queued before the flusher runs, so the three share one transaction first
        outcomes = await asyncio.gather(*(queue.write(b) for b in batches), return_exceptions=True)
    finally:
        await queue.stop()

    assert outcomes[0] == WriteResult(1, 0) and outcomes[2] == WriteResult(1, 0)
    assert isinstance(outcomes[1], Exception)
    assert not any(key[3] == "poison.b" for key in store.sql_series.cache)
    assert await read_values(store.series, org_id, "host", "h1", "good.a", NOW - 60, NOW) == [
        (NOW, 1.0)
    ]
    assert await read_values(store.series, org_id, "host", "h2", "good.c", NOW - 60, NOW) == [
        (NOW, 3.0)
    ]
    assert await read_values(store.series, org_id, "host", "h1", "poison.b", NOW - 60, NOW) is None

    # the same series written normally afterwards is stored and readable
    monkeypatch.undo()
    await store.series.write_points(org_id, "host", [Point("h1", "poison.b", NOW, 4.0)], NOW)
    assert await read_values(store.series, org_id, "host", "h1", "poison.b", NOW - 60, NOW) == [
        (NOW, 4.0)
    ]


async def test_the_series_id_cache_stays_bounded_under_a_burst_of_names(
    store: Store, org_id: str
) -> None:
    cache: coalesce.SeriesCache = OrderedDict()
    queue = coalesce.PointWriteQueue(
        store.backend.write, cache, SeriesCounts(), flushers=1, max_points=10_000, max_cached=100
    )
    queue.start()
    try:
        for burst in range(5):
            points = [Point("h1", f"burst{burst}.m{i}", NOW, float(i)) for i in range(60)]
            result = await queue.write(PointBatch(org_id, "host", points, NOW, NOW - 86400))
            assert result == WriteResult(60, 0)
            assert len(cache) <= 100
            recent = [Point("h1", "burst0.m0", NOW, 0.0)]  # written in every burst
            assert await queue.write(PointBatch(org_id, "host", recent, NOW, NOW - 86400)) == (
                WriteResult(1, 0)
            )
            assert (org_id, "host", "h1", "burst0.m0") in cache  # the recently used stay
        assert next(iter(cache))[3].startswith("burst3.")  # the least recently used go first
        again = [Point("h1", "burst0.m1", NOW + 60, 5.0)]  # an id no longer cached
        assert await queue.write(PointBatch(org_id, "host", again, NOW, NOW - 86400)) == (
            WriteResult(1, 0)
        )
    finally:
        await queue.stop()
    values = await read_values(store.series, org_id, "host", "h1", "burst0.m1", NOW - 60, NOW + 60)
    assert values == [(NOW, 1.0), (NOW + 60, 5.0)]
