"""Expiry and series creation at fleet scale: what a minute of maintenance and a cold fleet's
first minute cost, for SQLite and PostgreSQL.

A store of --series series (hosts of 60 metrics) gets one point per series in each of
--hours hours, rolled up. Figures, medians of --repeats:
- expiry with nothing due, the old way (every series probed in every table, the pre-0300
  walk, kept here as the baseline) and the new way (the hourly ledger and a cursor);
- the new expiry of one due hour of every series (run once: it deletes);
- first writes of a cold fleet (every series created) against the same batches again.

Run: .venv/bin/python bench/expiry.py [--series 100000] [--hours 2] [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from sabamon.server.store import Point, Retention
from sabamon.server.store.ops import Query, Step
from sabamon.server.store.postgres import PostgresStore
from sabamon.server.store.sql_store import SQLStore
from sabamon.server.store.sqlite import SQLiteStore

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
HOUR = 3600
NOW = 1_700_006_400
RETENTION = Retention(raw_1m=86400, rollup_5m=2 * 86400, rollup_1h=3 * 86400, rollup_1d=9 * 86400)
TABLES = {"points": "ts", "rollup_300": "bucket", "rollup_3600": "bucket", "rollup_86400": "bucket"}


def walk_every_series(after: int, limit: int, cutoffs: dict[str, int]) -> Step[int | None]:
    """The baseline: the expiry before the hourly ledger, one DELETE per series and table."""
    rows = yield Query("SELECT id FROM series WHERE id > ? ORDER BY id LIMIT ?", (after, limit))
    ids = [row[0] for row in rows]
    for table, column in TABLES.items():
        for series_id in ids:
            yield Query(
                f"DELETE FROM {table} WHERE series_id = ? AND {column} < ?",
                (series_id, cutoffs[table]),
                count=True,
            )
    return ids[-1] if len(ids) == limit else None


async def old_expire(store: SQLStore, now: int) -> None:
    cutoffs = {
        "points": now - RETENTION.raw_1m,
        "rollup_300": now - RETENTION.rollup_5m,
        "rollup_3600": now - RETENTION.rollup_1h,
        "rollup_86400": now - RETENTION.rollup_1d,
    }
    after: int | None = 0
    while after is not None:
        after = await store._write(walk_every_series(after, 200, cutoffs))


async def timed(work: object) -> float:
    started = time.perf_counter()
    await work  # type: ignore[misc]
    return time.perf_counter() - started


def batches(series: int, at: int) -> list[list[Point]]:
    return [[Point(f"h{h}", f"m.{m}", at, 1.0) for m in range(60)] for h in range(series // 60)]


async def fill(store: SQLStore, org_id: str, series: int, hours: int) -> tuple[float, float]:
    """Writes the points hour by hour; returns (first write s, same batches again s)."""
    first = again = 0.0
    for hour in range(hours):
        at = NOW - 86400 - (hours - hour) * HOUR
        host_batches = batches(series, at)
        writes = [store.series.write_points(org_id, "host", b, at) for b in host_batches]
        took = await timed(asyncio.gather(*writes))
        if hour == 0:
            first = took
            writes = [store.series.write_points(org_id, "host", b, at) for b in host_batches]
            again = await timed(asyncio.gather(*writes))
    await store.series.compact(NOW)
    return first, again


async def run_backend(name: str, args: argparse.Namespace) -> None:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store: SQLStore
    if name == "sqlite":
        store = SQLiteStore(Path(tempfile.mkdtemp()) / "bench.db", RETENTION)
    else:
        store = PostgresStore(POSTGRES_URL, RETENTION, schema=schema)
    await store.open()
    try:
        org, _ = await store.ensure_org("bench")
        first, again = await fill(store, org.id, args.series, args.hours)
        n = args.series // 60 * 60
        print(f"{name}: {n} series, {args.hours} hours of points, rolled up")
        print(
            f"  cold fleet first write {first:.2f} s ({n / first:,.0f} series/s), "
            f"same batches again {again:.2f} s: x{first / again:.2f}"
        )
        quiet = NOW - args.hours * HOUR  # the oldest hour ends just after the raw cutoff
        await store.series.expire(quiet)
        repeats = range(args.repeats)
        old = statistics.median([await timed(old_expire(store, quiet)) for _ in repeats])
        new = statistics.median([await timed(store.series.expire(quiet)) for _ in repeats])
        print(f"  expiry, nothing due: old walk {old * 1000:,.1f} ms, new {new * 1000:,.2f} ms")
        print(f"    old/new x{old / new:,.0f}")
        due_at = quiet + HOUR  # the oldest hour of raw points is due
        deleted = 0

        async def due() -> None:
            nonlocal deleted
            deleted = await store.series.expire(due_at)

        took = await timed(due())
        print(f"  expiry of one due hour: {deleted:,} rows in {took:.2f} s")
        print(f"    ({deleted / took:,.0f} rows/s; old walk with nothing due: {old:.2f} s)")
    finally:
        await store.close()
        if name == "postgres":
            with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100_000)
    parser.add_argument("--hours", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    for name in args.backends:
        asyncio.run(run_backend(name, args))


if __name__ == "__main__":
    main()
