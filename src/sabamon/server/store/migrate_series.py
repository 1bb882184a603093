"""`sabamon migrate-series`: converts an existing data folder or database to sealed chunks,
in place, with progress, resumable after a kill.

Opening the store adds the chunk tables (migration 0400). Then, series by series in
batches, each batch one transaction:
1. every hour of the head (`points`) is marked in `head_windows`, an hour a transaction,
   so nothing the old rollup ledger missed stays behind (a cursor in `expiry_cursors`
   remembers the next hour);
2. the compactor seals every closed window (`seal.py`);
3. the 5-minute and hourly rows of the old rollup tables become rollup chunks, a chunk per
   series and day, and the rows go (hourly rows of an hour the 5-minute rows cover are
   dropped as their sum); the daily rows stay, read as they are.
A kill loses at most the batch in flight, which rolls back; running the command again
continues. The server may run meanwhile: the compactor does step 2 in the background, the
command only does it now.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import numpy as np

from . import chunk, open_store
from .ops import Many, Query, Step, Upsert
from .seal import DAY, ROLLUP_STEP, seal_chunk
from .store import Store

BATCH = 200
"""Series per sealing and converting transaction (the head is marked an hour at a time)."""
HOUR = 3600
CURSOR = "migrate-series"

Progress = Callable[[str, int, int], None]


def mark_head(hour: int) -> Step[int]:
    """Marks every series of the head's first hour at or after `hour` (s) and moves the
    cursor past it; returns that hour, or -1 when the head holds nothing from `hour` on."""
    rows = yield Query("SELECT min(bucket) FROM points WHERE bucket >= ?", (hour,))
    if not rows or rows[0][0] is None:
        return -1
    hour = int(rows[0][0]) - int(rows[0][0]) % HOUR
    yield Query(
        "INSERT INTO head_windows (hour, series_id) "
        "SELECT DISTINCT ?, series_id FROM points WHERE bucket >= ? AND bucket < ? "
        "ON CONFLICT (hour, series_id) DO NOTHING",
        (hour, hour, hour + HOUR),
    )
    yield Upsert(
        "expiry_cursors",
        ("tbl", "hour", "after_series"),
        ("text", "bigint", "bigint"),
        "(tbl) DO UPDATE SET hour = excluded.hour",
        [(CURSOR, hour + HOUR, 0)],
    )
    return hour


def cursor() -> Step[int]:
    """The next head hour to mark (0 at the start)."""
    rows = yield Query("SELECT hour FROM expiry_cursors WHERE tbl = ?", (CURSOR,))
    return int(rows[0][0]) if rows else 0


def count(sql: str) -> Step[int]:
    rows = yield Query(sql)
    return int(rows[0][0] or 0)


def convert_rollups(limit: int) -> Step[int]:
    """Turns the old 5-minute and hourly rollup rows of up to `limit` series into rollup
    chunks; returns the rows converted (0 when none are left)."""
    rows = yield Query(
        "SELECT DISTINCT series_id FROM (SELECT series_id FROM rollup_300 UNION ALL "
        "SELECT series_id FROM rollup_3600) AS rolled ORDER BY series_id LIMIT ?",
        (limit,),
    )
    ids = [row[0] for row in rows]
    if not ids:
        return 0
    marks = ", ".join("?" for _ in ids)
    five = yield Query(
        f"SELECT series_id, bucket, total, n FROM rollup_300 WHERE series_id IN ({marks})",
        ids,
    )
    hourly = yield Query(
        f"SELECT series_id, bucket, total, n FROM rollup_3600 WHERE series_id IN ({marks})",
        ids,
    )
    covered = {(sid, bucket - bucket % 3600) for sid, bucket, _, _ in five}
    entries: dict[tuple[int, int, int], list[tuple[int, float, int]]] = defaultdict(list)
    for step, source in ((ROLLUP_STEP, five), (3600, hourly)):
        for sid, bucket, total, n in source:
            if step == 3600 and (sid, bucket) in covered:
                continue
            entries[(sid, step, bucket - bucket % DAY)].append((bucket, total, n))
    existing = yield Query(
        f"SELECT series_id, step, start, data FROM chunks WHERE step IN (300, 3600) "
        f"AND series_id IN ({marks})",
        ids,
    )
    for sid, step, start, blob in existing:
        key = (sid, step, start)
        if key in entries:  # a day already downsampled from raw points: its rollups win
            buckets, totals, counts = chunk.decode_rollup(blob, sid, start)
            mine = {b: (t, c) for b, t, c in zip(buckets, totals, counts, strict=True)}
            kept = [e for e in entries[key] if e[0] not in mine]
            entries[key] = kept + [(int(b), float(t), int(c)) for b, (t, c) in mine.items()]
    new_chunks = []
    for (sid, step, day), values in sorted(entries.items()):
        values.sort()
        buckets = np.array([v[0] for v in values], np.int64)
        totals = np.array([v[1] for v in values], np.float64)
        counts = np.array([v[2] for v in values], np.int64)
        blob = chunk.encode_rollup(day, buckets, totals, counts)
        new_chunks.append((sid, step, day, DAY, len(values), blob))
    yield Upsert(
        "chunks",
        ("series_id", "step", "start", "span", "n", "data"),
        ("bigint", "integer", "bigint", "integer", "integer", "bytea"),
        "(series_id, step, start) DO UPDATE SET n = excluded.n, data = excluded.data",
        new_chunks,
    )
    for table in ("rollup_300", "rollup_3600"):
        yield Many(f"DELETE FROM {table} WHERE series_id = ?", [(sid,) for sid in ids])
    return len(five) + len(hourly)


async def migrate(store: Store, now: int, progress: Progress, batch: int = BATCH) -> dict[str, int]:
    """Runs the three steps to the end on an open store, `batch` series a transaction;
    returns what each did."""
    first = await store.backend.read(count("SELECT min(bucket) FROM points"))
    last = await store.backend.read(count("SELECT max(bucket) FROM points"))
    hours = (last - last % HOUR - first + first % HOUR) // HOUR + 1 if last else 0
    marks = await store.backend.read(count("SELECT count(*) FROM head_windows"))
    hour = await store.backend.read(cursor())
    while (hour := await store.backend.write(mark_head(hour))) >= 0:
        hour += HOUR
        progress("marking the head (hours)", min((hour - first) // HOUR, hours), hours)
    windows = await store.backend.read(count("SELECT count(*) FROM head_windows"))
    marked = windows - marks
    sealed = 0
    while (points := await store.backend.write(seal_chunk(now, batch))) >= 0:
        sealed += points
        left = await store.backend.read(count("SELECT count(*) FROM head_windows"))
        progress("sealing (series hours)", windows - left, windows)
    rows = await store.backend.read(
        count("SELECT (SELECT count(*) FROM rollup_300) + (SELECT count(*) FROM rollup_3600)")
    )
    converted = 0
    while chunk_rows := await store.backend.write(convert_rollups(batch)):
        converted += chunk_rows
        progress("converting rollups (rows)", converted, rows)
    return {"head_marks_added": marked, "points_sealed": sealed, "rollup_rows": converted}


def progress_bar(stream: TextIO) -> Progress:
    """A one-line progress bar per phase, redrawn at most ten times a second."""
    shown: dict[str, float] = {}

    def show(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - shown.get(phase, 0.0) < 0.1:
            return
        shown[phase] = now
        share = done / total if total else 1.0
        bar = "#" * int(30 * share)
        end = "\n" if done >= total else ""
        stream.write(f"\r{phase:<30} [{bar:<30}] {done}/{total} {share:4.0%}{end}")
        stream.flush()

    return show


async def run(store: Store, now: int, stream: TextIO, batch: int) -> dict[str, int]:
    await store.open()
    try:
        return await migrate(store, now, progress_bar(stream), batch)
    finally:
        await store.close()


def main(command: str, argv: list[str]) -> int:
    """`sabamon migrate-series [--data DIR | --db URL]`."""
    parser = argparse.ArgumentParser(
        prog="sabamon migrate-series",
        description="convert a data folder or database to sealed series chunks, in place",
    )
    parser.add_argument("--data", type=Path, help="data folder of a SQLite server")
    parser.add_argument("--db", help="postgresql://… of a PostgreSQL server")
    parser.add_argument(
        "--batch", type=int, default=BATCH, help=f"series per transaction (default {BATCH})"
    )
    args = parser.parse_args(argv)
    if not 0 < args.batch <= 500:
        parser.error("--batch: from 1 to 500")
    if args.data is None and args.db is None:
        parser.error("give --data DIR or --db URL")
    if args.db is None and not (args.data / "sabamon.db").is_file():
        parser.error(f"--data {args.data}: no sabamon.db in it")
    store = open_store(args.db, args.data or Path.cwd())
    result = asyncio.run(run(store, int(time.time()), sys.stderr, args.batch))
    print(" ".join(f"{key}={value}" for key, value in result.items()))
    return 0
