"""The store's own ceiling: ingest points/s, write latency, bytes per point, read times.

Many concurrent writers each write 60-point batches (one host, 60 metrics, one minute)
through the Store interface alone, for SQLite (synchronous NORMAL and FULL) and
PostgreSQL. Then one metric with a year of 1-minute points is written, rolled up and read:
a 1-week query (5-minute buckets) and a 1-year query (1-day buckets), medians of repeats.
The server's target is >= 50,000 points/s acknowledged after commit, p99 < 200 ms.

Run: .venv/bin/python bench/ingest_store.py [--writers 64] [--batches 40] [--backends ...]
PostgreSQL: SABAMON_BENCH_POSTGRES (default postgresql://postgres@127.0.0.1:5432/test);
the run uses a fresh schema and drops it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg
import worktree  # noqa: F401  (this tree's code first)

from sabamon.server.store import Point, Store
from sabamon.server.store.postgres import PostgresBackend
from sabamon.server.store.sqlite import SQLiteBackend

POSTGRES_URL = os.environ.get("SABAMON_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
NOW = 1_700_006_400
YEAR = 365 * 86400


@asynccontextmanager
async def backend(name: str, folder: Path) -> AsyncIterator[tuple[Store, Callable[[], int]]]:
    """An open store plus a function giving the bytes its `points` table takes."""
    if name.startswith("sqlite"):
        path = folder / f"{name}.db"
        store: Store = Store(
            SQLiteBackend(path, synchronous="FULL" if name.endswith("full") else "NORMAL")
        )

        def size() -> int:
            return sqlite_points_bytes(path)

        await store.open()
        yield store, size
        await store.close()
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store = Store(PostgresBackend(POSTGRES_URL, schema=schema, pool_size=8))
    await store.open()
    admin = psycopg.connect(POSTGRES_URL, autocommit=True)
    admin.execute(f"SET search_path = {schema}")

    def pg_size() -> int:
        admin.execute("VACUUM points")
        return int(admin.execute("SELECT pg_total_relation_size('points')").fetchone()[0])  # type: ignore[index]

    try:
        yield store, pg_size
    finally:
        await store.close()
        admin.execute(f"DROP SCHEMA {schema} CASCADE")
        admin.close()


def sqlite_points_bytes(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try:
            row = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'points'").fetchone()
            return int(row[0])
        except sqlite3.OperationalError:  # dbstat not compiled in: the whole file
            return path.stat().st_size


async def ingest(store: Store, writers: int, batches: int) -> tuple[float, list[float], int]:
    """(points/s, per-batch latencies in s, points written)."""
    org, _ = await store.ensure_org("bench")
    latencies: list[float] = []

    async def writer(w: int) -> None:
        for i in range(batches):
            t = NOW - 60 * (batches - i)
            batch = [Point(f"host{w}", f"metric.{j}", t, float(i + j)) for j in range(60)]
            started = time.perf_counter()
            await store.series.write_points(org.id, "host", batch, NOW)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    elapsed = time.perf_counter() - started
    points = writers * batches * 60
    return points / elapsed, latencies, points


async def reads(store: Store, repeats: int) -> tuple[float, float, float]:
    """(seconds to write and roll up a year, median 1-week read s, median 1-year read s)."""
    org, _ = await store.ensure_org("bench")
    started = time.perf_counter()
    for d in range(365):
        start = NOW - YEAR + d * 86400
        for offset in range(0, 1440, 720):
            batch = [
                Point("reader", "loadavg5", start + 60 * (offset + i), float((d + i) % 7))
                for i in range(720)
            ]
            await store.series.write_points(org.id, "host", batch, start + 86400)
        if d % 30 == 29:  # roll as a server would, so dirty buckets stay few
            await store.series.compact(start + 86400)
    await store.series.compact(NOW + 3600)
    loaded = time.perf_counter() - started

    async def median_read(span: int) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            got = await store.series.read_points(
                org.id, "host", "reader", "loadavg5", NOW - span, NOW
            )
            times.append(time.perf_counter() - t0)
            assert got
        return statistics.median(times)

    return loaded, await median_read(7 * 86400), await median_read(YEAR)


async def run(args: argparse.Namespace) -> None:
    print(f"store ingest: {args.writers} concurrent writers x {args.batches} batches of 60 points")
    with tempfile.TemporaryDirectory(dir=args.tmp) as folder:
        for name in args.backends:
            async with backend(name, Path(folder)) as (store, points_bytes):
                rate, latencies, points = await ingest(store, args.writers, args.batches)
                cuts = statistics.quantiles(latencies, n=100)
                per_point = points_bytes() / points
                print(
                    f"{name:12s} {rate:10,.0f} points/s  batch p50 {cuts[49] * 1000:6.1f} ms"
                    f"  p99 {cuts[98] * 1000:6.1f} ms  {per_point:5.1f} bytes/point on disk"
                )
                if name == "sqlite-full":
                    continue
                loaded, week, year = await reads(store, args.repeats)
                print(
                    f"{'':12s} year of 1-min points written+rolled in {loaded:5.1f} s;"
                    f" 1-week read median {week * 1000:5.1f} ms,"
                    f" 1-year read median {year * 1000:5.1f} ms"
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=25)
    parser.add_argument("--tmp", default=None, help="folder for the SQLite files")
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "sqlite-full", "postgres"],
        choices=["sqlite", "sqlite-full", "postgres"],
    )  # fmt: skip
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
