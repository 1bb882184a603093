"""Sealing on PostgreSQL ends with a VACUUM of the head: the rows it deleted and their index
entries go at once, not when autovacuum comes, so a read over the sealed windows does not
walk them (a year's worth made such a read three times slower)."""

from __future__ import annotations

import psycopg
import pytest
from tests.server.store.series_helpers import NOW

from sabamon.server.store import Point, Store
from sabamon.server.store.postgres import PostgresBackend

pytestmark = pytest.mark.postgres

DAY = 86400


def head_vacuums(dsn: str) -> list[tuple[str, bool]]:
    """[(table, vacuumed by hand)] of the head's tables in the test's schema. (The dead rows
    left are not asserted: a VACUUM keeps those an older transaction of the database, such
    as another test's, may still see.)"""
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT relname, last_vacuum IS NOT NULL FROM pg_stat_user_tables "
            "WHERE schemaname = current_schema() AND relname IN ('points', 'head_windows') "
            "ORDER BY relname"
        ).fetchall()
    return [(str(name), bool(done)) for name, done in rows]


async def test_sealing_vacuums_the_head(postgres_dsn: str) -> None:
    store = Store(PostgresBackend(postgres_dsn, pool_size=2))
    await store.open()
    try:
        points = [Point("h", "m", t, t % 7) for t in range(NOW - DAY, NOW, 60)]
        await store.series.write_points("o", "host", points, NOW, earliest=NOW - DAY)
        assert head_vacuums(postgres_dsn) == [("head_windows", False), ("points", False)]
        assert await store.series.compact(NOW + DAY) == len(points)
        assert head_vacuums(postgres_dsn) == [("head_windows", True), ("points", True)]
    finally:
        await store.close()
