"""Faults while sealing: kill -9, a corrupt chunk, a full disk. Nothing acknowledged is
lost, no half chunk is left, and one bad chunk costs only its own window."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import psycopg
import pytest
from tests.server.store.conftest import StoreFactory
from tests.server.store.series_helpers import read_values

from sabamon.server.store import Point, Store, series_read
from sabamon.server.store import chunk as chunks
from sabamon.server.store.ops import Query, single
from sabamon.server.store.postgres import PostgresBackend
from sabamon.server.store.sqlite import SQLiteBackend

NOW = 1_700_006_400 + 6 * 3600
HOUR = 3600
SERIES = 3000

SEALER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from sabamon.server.store import Point, Store
    from sabamon.server.store import seal

    async def main() -> None:
        backend, where, now = sys.argv[1], sys.argv[2], int(sys.argv[3])
        if backend == "sqlite":
            from sabamon.server.store.sqlite import SQLiteBackend
            store = Store(SQLiteBackend(Path(where)))
        else:
            from sabamon.server.store.postgres import PostgresBackend
            store = Store(PostgresBackend(where, pool_size=2))
        await store.open()
        for first in range(0, SERIES, 500):
            batch = [
                Point("h", f"m{s}", now - 2 * 3600 + 60 * i, float(s * 1000 + i))
                for s in range(first, first + 500) for i in range(60)
            ]
            await store.series.write_points("o", "host", batch, now)
        print("written", flush=True)
        while (sealed := await store.backend.write(seal.seal_chunk(now, 500))) >= 0:
            print("sealed", sealed, flush=True)
        print("done", flush=True)

    SERIES = int(sys.argv[4])
    asyncio.run(main())
    """
)


def kill_while_sealing(backend: str, where: str) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", SEALER, backend, where, str(NOW), str(SERIES)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "written\n"
        assert child.stdout.readline().startswith("sealed ")  # the next transaction is under way
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL


async def assert_nothing_lost(store: Store, rows: list[tuple[int, int, bytes]]) -> None:
    """Every point reads back, every chunk is whole, and some sealing had happened."""
    assert 0 < len(rows) < SERIES  # killed mid-way: part sealed, part in the head
    for sid, start, blob in rows:
        times, _ = chunks.decode_raw(blob, sid, start)
        assert len(times) == 60
    for s in range(0, SERIES, 97):
        got = await read_values(store.series, "o", "host", "h", f"m{s}", NOW - 3 * HOUR, NOW)
        want = [(NOW - 2 * HOUR + 60 * i, float(s * 1000 + i)) for i in range(60)]
        assert got == want
    assert await store.series.compact(NOW) == (SERIES - len(rows)) * 60  # the rest seals


async def test_kill_9_while_sealing_loses_nothing_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    kill_while_sealing("sqlite", str(path))
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT series_id, start, data FROM chunks").fetchall()
    store = Store(SQLiteBackend(path))
    await store.open()
    try:
        await assert_nothing_lost(store, rows)
    finally:
        await store.close()


@pytest.mark.postgres
async def test_kill_9_while_sealing_loses_nothing_postgres(postgres_dsn: str) -> None:
    kill_while_sealing("postgres", postgres_dsn)
    with psycopg.connect(postgres_dsn) as conn:
        rows = conn.execute("SELECT series_id, start, data FROM chunks").fetchall()
    store = Store(PostgresBackend(postgres_dsn, pool_size=2))
    await store.open()
    try:
        await assert_nothing_lost(store, rows)
    finally:
        await store.close()


async def test_a_corrupt_chunk_is_reported_and_the_rest_reads(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    series_read._reported.clear()  # reported once an hour per chunk: start afresh
    series = store.series
    day = NOW - NOW % 86400
    points = [Point("h", "m", day - 86400 + 600 * i, float(i)) for i in range(2 * 144)]
    await series.write_points("o", "host", points[:144], day)
    await series.write_points("o", "host", points[144:], NOW)
    await series.compact(NOW + 86400)  # two day chunks
    [(sid, blob)] = await store.backend.read(
        single(Query("SELECT series_id, data FROM chunks WHERE start = ?", (day - 86400,)))
    )
    flipped = bytearray(blob)
    flipped[len(flipped) // 2] ^= 0x10
    await store.backend.write(
        single(Query("UPDATE chunks SET data = ? WHERE start = ?", (bytes(flipped), day - 86400)))
    )
    with caplog.at_level(logging.ERROR):
        got = await read_values(series, "o", "host", "h", "m", day - 86400, day + 86400)
    assert got == [(p.time, p.value) for p in points[144:]]  # 5-minute buckets of the good day
    assert f"series_id={sid} step=60 window_start={day - 86400}" in caplog.text
    # a late point for the corrupt window: sealing moves the chunk aside, as it is
    await series.write_points("o", "host", [Point("h", "m", day - 60, 7.0)], day + 3600)
    assert await series.compact(day + 7200) == 1
    one = await read_values(series, "o", "host", "h", "m", day - 120, day - 1)
    assert one == [(day - 60, 7.0)]
    [(kept, found)] = await store.backend.read(
        single(Query("SELECT data, found_at FROM corrupt_chunks WHERE start = ?", (day - 86400,)))
    )
    assert (bytes(kept), found) == (bytes(flipped), day + 7200)


async def fill_disk(store: Store) -> None:
    """Makes the next chunk write fail as a full disk does."""
    if isinstance(store.backend, SQLiteBackend):
        pages = await store.backend.write(single(Query("PRAGMA page_count")))
        await store.backend.write(single(Query(f"PRAGMA max_page_count = {pages[0][0]}")))
        return
    await store.backend.write(
        single(
            Query(
                "CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$"
            )
        )
    )
    await store.backend.write(
        single(
            Query(
                "CREATE TRIGGER disk_full BEFORE INSERT OR UPDATE ON chunks "
                "FOR EACH ROW EXECUTE FUNCTION disk_full()"
            )
        )
    )


async def test_a_full_disk_while_sealing_leaves_the_head_intact(make_store: StoreFactory) -> None:
    store = make_store()
    await store.open()
    series = store.series
    try:
        rng = np.random.default_rng(1)
        points = [
            Point("h", f"m{s}", NOW - 2 * HOUR + 60 * i, float(rng.random()))
            for s in range(400)
            for i in range(60)
        ]
        await series.write_points("o", "host", points, NOW)
        before = await read_values(series, "o", "host", "h", "m7", NOW - 3 * HOUR, NOW)
        await fill_disk(store)
        with pytest.raises((sqlite3.OperationalError, psycopg.errors.DiskFull)):
            await series.compact(NOW)
        assert await read_values(series, "o", "host", "h", "m7", NOW - 3 * HOUR, NOW) == before
        [(head,)] = await store.backend.read(single(Query("SELECT count(*) FROM points")))
        assert head == len(points)
    finally:
        await store.close()
