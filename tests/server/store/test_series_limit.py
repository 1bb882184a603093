"""The series limit as each worker counts it (`series.SeriesCounts`): exact within one
worker however many of its writes run at once, other workers' series seen at the next
count, and no transaction creating series waiting for another one (PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import psycopg
import pytest
from tests.server.store.series_helpers import NOW

from sabamon.server.store import Point, Store
from sabamon.server.store.postgres import PostgresBackend
from sabamon.server.store.sqlite import SQLiteBackend

LIMIT = 10
LimitedStore = Callable[[], Store]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def limited(request: pytest.FixtureRequest, tmp_path: Path) -> LimitedStore:
    """Unopened stores (workers) of one database, each allowing LIMIT series an org."""
    if request.param == "sqlite":
        return lambda: Store(SQLiteBackend(tmp_path / "sabamon.db"), max_series_per_org=LIMIT)
    dsn = request.getfixturevalue("postgres_dsn")
    return lambda: Store(PostgresBackend(dsn, pool_size=4), max_series_per_org=LIMIT)


@pytest.fixture
async def worker(limited: LimitedStore) -> AsyncIterator[Store]:
    store = limited()
    await store.open()
    yield store
    await store.close()


async def new_series(store: Store, org_id: str, owner: str, names: list[str]) -> int:
    """Writes one point of each named series; returns how many were stored."""
    points = [Point(owner, name, NOW, 1.0) for name in names]
    return (await store.series.write_points(org_id, "host", points, NOW)).accepted


async def test_concurrent_writes_of_one_worker_stop_at_the_limit(worker: Store) -> None:
    org, _ = await worker.ensure_org("limited")
    stored = await asyncio.gather(
        *(new_series(worker, org.id, f"h{i}", ["a", "b", "c"]) for i in range(8))
    )
    assert sum(stored) == LIMIT
    assert await worker.series.series_count() == LIMIT
    assert await new_series(worker, org.id, "h0", ["a", "b", "c"]) in (0, 3)  # existing


async def test_another_workers_series_count_once_the_count_is_old(
    limited: LimitedStore,
) -> None:
    first, second = limited(), limited()
    await first.open()
    await second.open()
    try:
        org, _ = await first.ensure_org("limited")
        now = 0.0
        first.sql_series.counts.clock = lambda: now
        assert await new_series(first, org.id, "h1", ["a", "b"]) == 2
        assert await new_series(second, org.id, "h2", [f"m{i}" for i in range(20)]) == 8
        # the first worker counted 2 less than a minute ago: it has not seen the 8 yet
        assert await new_series(first, org.id, "h1", ["c"]) == 1
        now += first.sql_series.counts.max_age + 1
        assert await new_series(first, org.id, "h1", ["d"]) == 0
        assert await new_series(second, org.id, "h2", ["n"]) == 0
    finally:
        await first.close()
        await second.close()


@pytest.mark.postgres
async def test_creating_series_waits_for_no_other_transaction_creating_series(
    postgres_dsn: str,
) -> None:
    store = Store(PostgresBackend(postgres_dsn, pool_size=4))
    await store.open()
    try:
        org, _ = await store.ensure_org("busy")
        assert await new_series(store, org.id, "h1", ["a"]) == 1
        with psycopg.connect(postgres_dsn) as other:  # a transaction left open
            other.execute(
                "INSERT INTO series (org_id, kind, owner, name) VALUES (%s, 'host', 'h2', 'x')",
                (org.id,),
            )
            stored = await asyncio.wait_for(new_series(store, org.id, "h1", ["b", "c"]), 10)
            assert stored == 2
            other.rollback()
    finally:
        await store.close()
