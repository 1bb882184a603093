"""PostgreSQL: a rollup racing point writes neither loses a point nor a dirty mark.

Writes lock an existing mark instead of rewriting it; the rollup locks the marks it takes.
A second connection holds one side of the race open while the store runs the other.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest
from tests.server.store.series_helpers import read_values

from sabamon.server.store import HostInput, Point
from sabamon.server.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres
NOW = 1_700_006_400
BUCKET = NOW - 3600  # a 5-minute bucket that has ended, so `rollup(NOW)` takes it
WEEK = 7 * 86400


async def wait_for_lock_wait(admin: psycopg.AsyncConnection[Any], deadline: float) -> None:
    """Returns once some session of this database waits on a row lock."""
    while time.monotonic() < deadline:
        cursor = await admin.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        row = await cursor.fetchone()
        if row and row[0]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no session ever waited on the lock")


async def opened(postgres_dsn: str) -> tuple[PostgresStore, str, str]:
    store = PostgresStore(postgres_dsn, pool_size=4)
    await store.open()
    org, _ = await store.ensure_org("race")
    host_id = await store.create_host(org.id, HostInput(name="h"), NOW)
    await store.series.write_points(org.id, "host", [Point(host_id, "m", BUCKET, 1.0)], NOW)
    return store, org.id, host_id


async def test_rollup_waits_for_a_write_holding_the_mark(postgres_dsn: str) -> None:
    store, org_id, host_id = await opened(postgres_dsn)
    try:
        async with (
            await psycopg.AsyncConnection.connect(postgres_dsn) as writer,
            await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as admin,
        ):
            row = await (await writer.execute("SELECT id FROM series")).fetchone()
            assert row is not None
            sid = row[0]
            # an uncommitted write of a second point in the same bucket, as the store runs it
            await writer.execute("INSERT INTO points VALUES (%s, %s, 3.0)", (sid, BUCKET + 60))
            await writer.execute(
                "INSERT INTO dirty_buckets (series_id, bucket) VALUES (%s, %s) "
                "ON CONFLICT (series_id, bucket) DO UPDATE SET bucket = excluded.bucket "
                "WHERE false",
                (sid, BUCKET),
            )
            rollup = asyncio.create_task(store.series.compact(NOW))
            await wait_for_lock_wait(admin, time.monotonic() + 10)
            assert not rollup.done()
            await writer.commit()
            assert await asyncio.wait_for(rollup, 10) > 0
            marks = await (await admin.execute("SELECT count(*) FROM dirty_buckets")).fetchone()
            assert marks == (0,)
        got = await read_values(store.series, org_id, "host", host_id, "m", NOW - WEEK, NOW)
        assert got == [(BUCKET, 2.0)]  # both points, from the rollup alone
    finally:
        await store.close()


async def test_a_write_during_the_rollup_leaves_a_fresh_mark(postgres_dsn: str) -> None:
    store, org_id, host_id = await opened(postgres_dsn)
    try:
        async with (
            await psycopg.AsyncConnection.connect(postgres_dsn) as rollup,
            await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as admin,
        ):
            # the rollup's first statement: it has taken the mark and read the raw points
            await rollup.execute("SELECT series_id, bucket FROM dirty_buckets FOR UPDATE")
            write = asyncio.create_task(
                store.series.write_points(
                    org_id, "host", [Point(host_id, "m", BUCKET + 60, 3.0)], NOW
                )
            )
            await wait_for_lock_wait(admin, time.monotonic() + 10)
            await rollup.execute("DELETE FROM dirty_buckets")
            await rollup.commit()
            await asyncio.wait_for(write, 10)
            marks = await (await admin.execute("SELECT bucket FROM dirty_buckets")).fetchall()
            assert marks == [(BUCKET,)]
        got = await read_values(store.series, org_id, "host", host_id, "m", NOW - WEEK, NOW)
        assert got == [(BUCKET, 2.0)]
    finally:
        await store.close()
