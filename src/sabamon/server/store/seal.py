"""The compactor's steps: sealing the head into chunks, downsampling expired raw chunks,
expiring rollup chunks. Each step is one transaction (see `ops.py`), so a kill at any
moment leaves either the head rows or the chunk that replaced them, never half of both.

Windows. A series' closed hour (ended `SEAL_GRACE` seconds ago) is sealed into an hour
chunk, which keeps the head to about two hours of points; once the day is closed its hour
chunks (and any head points left in it) are merged into one day chunk, where pcodec
compresses best (bench/storage.py: day chunks take about a quarter of the bytes of hour
chunks on the same points). A late or overwriting point for a sealed window lands in the
head like any other and reseals its window, merged with the chunk (the head wins).

Sealing takes the window's head marks first (`FOR UPDATE` on PostgreSQL), the order in
which writers take them (`series.write_point_batches`), so a racing write waits and lands
in a fresh mark after the seal commits. It seals and deletes only head points of the marks
it holds, and of those only the (bucket, series) ranges it read: a point committed
meanwhile under a mark it does not hold (one made after it took its marks) stays in the
head with that mark, for the next seal. A corrupt chunk is never rewritten: it is reported,
moved as it is to `corrupt_chunks` for an operator, and its window sealed from the rest.

Rollups: each raw chunk carries its hourly sums and counts (`hourly`, computed at sealing:
about 0.05 bytes a point), from which hourly and daily reads come without decoding the
points; 5-minute reads (spans up to 10 days) are computed from the raw points, which saves
the bytes of 5-minute sums while raw data is kept. When raw data reaches
`Retention.raw_1m`, its day becomes a chunk of 5-minute sums and counts (`step` 300), kept
for the longest rollup retention, from which 5-minute, hourly and daily averages are read.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import chunk
from .head import head_buckets
from .ops import DeleteKeys, Many, Query, Step, Upsert
from .records import Retention
from .series import HEAD_HOUR
from .series_read import (
    Raw,
    bucket_arrays,
    bucket_sums,
    head_arrays,
    merge_raw,
    report_corrupt,
)
from .series_store import RAW_STEP, ROLLUP_STEPS

DAY = 86400
SEAL_GRACE = 300
"""Seconds after its end before a window is sealed: the agents' posts of its last minute
(and their first retries) are in by then."""
ROLLUP_STEP = ROLLUP_STEPS[0]
"""The step of the rollup chunks made from expired raw data."""

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    start: int
    span: int


class Sealed(NamedTuple):
    """What one sealing transaction did: points moved into chunks, chunks written."""

    points: int
    chunks: int


@dataclass
class SealCursor:
    """How far one compaction run has gone through the head's marks, in (hour, series id)
    order: a run seals each mark it finds once and moves on, so points that keep landing
    in a closed window (a backlog replayed in minute order) are sealed again by the next
    run, not chased by this one while ingest waits."""

    hour: int = -1
    series_id: int = -1


def closed(window_end: int, now: int) -> bool:
    return window_end + SEAL_GRACE <= now


def due_windows(
    now: int, limit: int, after: SealCursor
) -> Step[tuple[dict[Window, list[int]], list[tuple[int, int]]]]:
    """Up to `limit` (window, series) pairs due for sealing, oldest windows first: head
    hours past `after` that have closed, and closed days still held as hour chunks; with
    the (hour, series id) marks read."""
    marks = yield Query(
        "SELECT hour, series_id FROM head_windows WHERE hour <= ? AND hour >= ? "
        "AND (hour > ? OR series_id > ?) ORDER BY hour, series_id LIMIT ?",
        (now - SEAL_GRACE - HEAD_HOUR, after.hour, after.hour, after.series_id, limit),
    )
    # Each statement reads about `limit` index entries, however many chunks there are: a
    # day's hour chunks (series x 24) are found from the oldest one on, in start order.
    oldest = yield Query("SELECT min(start) FROM chunks WHERE span < 86400")
    hours: list[tuple[int, int]] = []
    if oldest and oldest[0][0] is not None:
        day = oldest[0][0] - oldest[0][0] % DAY
        if closed(day + DAY, now):
            rows = yield Query(
                "SELECT series_id FROM chunks WHERE span < 86400 AND start >= ? AND start < ? "
                "ORDER BY start LIMIT ?",
                (day, day + DAY, limit),
            )
            hours = [(day, sid) for (sid,) in rows]
    day_chunks: set[tuple[int, int]] = set()
    if marks:
        days = sorted({hour - hour % DAY for hour, _ in marks})
        ids = sorted({sid for _, sid in marks})
        rows = yield Query(
            f"SELECT start, series_id FROM chunks WHERE step = ? AND span = ? "
            f"AND start IN ({', '.join('?' for _ in days)}) AND {_in(ids)}",
            (RAW_STEP, DAY, *days, *ids),
        )
        day_chunks = {(start, sid) for start, sid in rows}
    due: dict[Window, set[int]] = defaultdict(set)
    for day, sid in hours:
        due[Window(day, DAY)].add(sid)
    for hour, sid in marks:
        day = hour - hour % DAY
        if (day, sid) in day_chunks or closed(day + DAY, now):
            due[Window(day, DAY)].add(sid)
        else:
            due[Window(hour, HEAD_HOUR)].add(sid)
    ordered = {w: sorted(ids) for w, ids in sorted(due.items(), key=lambda i: i[0].start)}
    return ordered, marks


def _in(ids: Sequence[int]) -> str:
    return f"series_id IN ({', '.join('?' for _ in ids)})"


def quarantine(corrupt: Sequence[tuple[int, int, int]], now: int) -> Step[None]:
    """Moves the chunks (series_id, step, start) to `corrupt_chunks`, kept as they are."""
    yield Many(
        "INSERT INTO corrupt_chunks (series_id, step, start, span, n, data, found_at) "
        "SELECT series_id, step, start, span, n, data, ? FROM chunks "
        "WHERE series_id = ? AND step = ? AND start = ? "
        "ON CONFLICT (series_id, step, start) DO UPDATE SET span = excluded.span, "
        "n = excluded.n, data = excluded.data, found_at = excluded.found_at",
        [(now, *key) for key in corrupt],
    )
    yield _delete_chunks(corrupt)


def _delete_chunks(keys: Sequence[tuple[int, int, int]]) -> DeleteKeys:
    """Deletes the chunks (series_id, step, start)."""
    return DeleteKeys(
        "chunks", ("series_id", "step", "start"), ("bigint", "integer", "bigint"), keys
    )


def seal_window(window: Window, series_ids: Sequence[int], now: int) -> Step[Sealed]:
    """Seals the head points and chunks of `series_ids` inside `window` into one chunk per
    series; returns the points sealed. A corrupt chunk found on the way is reported and
    moved to `corrupt_chunks`, and the window sealed from the rest."""
    low, high = window.start, window.start + window.span
    ids = list(series_ids)
    marks = yield Query(
        f"SELECT hour, series_id FROM head_windows WHERE hour >= ? AND hour < ? AND {_in(ids)}",
        (low, high, *ids),
        lock_rows=True,
    )
    old = yield Query(
        f"SELECT series_id, start, data FROM chunks WHERE step = ? AND start >= ? "
        f"AND start + span <= ? AND {_in(ids)} ORDER BY series_id, start",
        (RAW_STEP, low, high, *ids),
        lock_rows=True,
    )
    # buckets named, not a recursive clause: PostgreSQL would scan the whole head for it
    # (a window has at most 288 buckets, one statement's worth)
    buckets = yield from head_buckets(low, high)
    head: list[tuple[int, int, int, float]] = []
    if buckets:
        head = yield Query(
            f"SELECT bucket, series_id, ts, value FROM points WHERE bucket IN "
            f"({', '.join('?' for _ in buckets)}) AND {_in(ids)} AND ts >= ? AND ts < ? "
            "ORDER BY series_id, ts",
            (*buckets, *ids, low, high),
        )
    parts: dict[int, list[Raw]] = defaultdict(list)
    corrupt: list[tuple[int, int, int]] = []
    for sid, start, blob in old:
        try:
            parts[sid].append(chunk.decode_raw(blob, sid, start))
        except chunk.CorruptChunk as error:
            report_corrupt(error, RAW_STEP)
            corrupt.append((sid, RAW_STEP, start))
    if corrupt:
        yield from quarantine(corrupt, now)
    by_series: dict[int, list[tuple[int, float]]] = defaultdict(list)
    read: set[tuple[int, int]] = set()
    locked = {(hour, sid) for hour, sid in marks}
    for bucket, sid, ts, value in head:
        if (ts - ts % HEAD_HOUR, sid) not in locked:
            continue  # committed since the marks were locked: its writer's mark seals it
        by_series[sid].append((ts, value))
        read.add((bucket, sid))
    for sid, rows in by_series.items():
        parts[sid].append(head_arrays(rows))
    new_chunks = []
    points = 0
    for sid in ids:
        times, values = merge_raw(parts.get(sid, []))
        if len(times):
            data = chunk.encode_raw(low, times, values)
            hours = bucket_arrays(times, values, np.ones(len(times), np.int64), HEAD_HOUR)
            hourly = chunk.encode_rollup(low, *hours)
            new_chunks.append((sid, RAW_STEP, low, window.span, len(times), data, hourly))
            points += len(times)
    # The new chunks are written first: a write that fails (a full disk) fails before any
    # head row is gone, and the transaction rolls back whole.
    yield Upsert(
        "chunks",
        ("series_id", "step", "start", "span", "n", "data", "hourly"),
        ("bigint", "integer", "bigint", "integer", "integer", "bytea", "bytea"),
        "(series_id, step, start) DO UPDATE SET span = excluded.span, n = excluded.n, "
        "data = excluded.data, hourly = excluded.hourly",
        new_chunks,
    )
    yield DeleteKeys(
        "chunks",
        ("series_id",),
        ("bigint",),
        [(sid,) for sid in ids],
        "step = ? AND start > ? AND start + span <= ?",
        (RAW_STEP, low, high),
    )
    # the (bucket, series) ranges sealed, not the window: a point that a writer committed
    # since, under a mark this seal does not hold, stays for the next seal
    yield DeleteKeys(
        "points",
        ("bucket", "series_id"),
        ("bigint", "bigint"),
        sorted(read),
        "ts >= ? AND ts < ?",
        (low, high),
    )
    # by key: a range of hours for one series would walk every mark of those hours
    yield DeleteKeys("head_windows", ("hour", "series_id"), ("bigint", "bigint"), marks)
    return Sealed(points, len(new_chunks))


def seal_due(now: int, limit: int, cursor: SealCursor | None = None) -> Step[Sealed | None]:
    """Seals the oldest window due, for up to `limit` series; None when nothing is due.
    With a `cursor`, only marks past it are due, and it moves past the marks sealed."""
    after = cursor or SealCursor()
    due, marks = yield from due_windows(now, limit, after)
    for window, ids in due.items():
        sealed = yield from seal_window(window, ids, now)
        inside = [(h, s) for h, s in marks if window.start <= h < window.start + window.span]
        if cursor is not None and inside:
            cursor.hour, cursor.series_id = max(inside)
        return sealed
    return None


def seal_chunk(now: int, limit: int, cursor: SealCursor | None = None) -> Step[int]:
    """`seal_due` as points sealed, or -1 when nothing is due."""
    sealed = yield from seal_due(now, limit, cursor)
    return -1 if sealed is None else sealed.points


def downsample_chunk(now: int, retention: Retention, limit: int) -> Step[int]:
    """Turns up to `limit` raw chunks past the raw retention into 5-minute rollup chunks
    (or deletes them when rollups are kept no longer); returns chunks done."""
    rows = yield Query(
        "SELECT series_id, start, span, data FROM chunks WHERE step = ? AND start <= ? "
        "ORDER BY start, series_id LIMIT ?",
        (RAW_STEP, now - retention.raw_1m - DAY, limit),
    )
    if not rows:
        return 0
    keep_rollups = rollup_retention(retention) > retention.raw_1m
    rollups, corrupt = [], []
    for sid, start, _, blob in rows:
        if not keep_rollups:
            continue
        try:
            times, values = chunk.decode_raw(blob, sid, start)
        except chunk.CorruptChunk as error:
            report_corrupt(error, RAW_STEP)
            corrupt.append((sid, RAW_STEP, start))
            continue
        sums = bucket_sums(times, values, np.ones(len(times), np.int64), ROLLUP_STEP)
        buckets = np.array(sorted(sums), np.int64)
        totals = np.array([sums[b][0] for b in buckets], np.float64)
        counts = np.array([sums[b][1] for b in buckets], np.int64)
        day = start - start % DAY
        blob = chunk.encode_rollup(day, buckets, totals, counts)
        rollups.append((sid, ROLLUP_STEP, day, DAY, len(buckets), blob))
    yield from quarantine(corrupt, now)
    yield _delete_chunks([(sid, RAW_STEP, start) for sid, start, _, _ in rows])
    yield Upsert(
        "chunks",
        ("series_id", "step", "start", "span", "n", "data"),
        ("bigint", "integer", "bigint", "integer", "integer", "bytea"),
        "(series_id, step, start) DO UPDATE SET n = excluded.n, data = excluded.data",
        rollups,
    )
    return len(rows)


def rollup_retention(retention: Retention) -> int:
    """Rollup chunks hold 5-minute sums, from which every coarser step is read: they are
    kept for the longest rollup retention."""
    return max(retention.rollup_5m, retention.rollup_1h, retention.rollup_1d)


def expire_rollup_chunk(now: int, retention: Retention, limit: int) -> Step[int]:
    """Deletes up to `limit` rollup chunks past their retention; returns how many."""
    deleted: int = yield Query(
        "DELETE FROM chunks WHERE (series_id, step, start) IN ("
        "SELECT series_id, step, start FROM chunks WHERE step IN (?, ?) AND start <= ? "
        "ORDER BY step, start LIMIT ?)",
        (*ROLLUP_STEPS[:2], now - rollup_retention(retention) - DAY, limit),
        count=True,
    )
    return deleted


LEGACY_TABLES = ("rollup_300", "rollup_3600", "rollup_86400")
"""The rollup tables of the layout before chunks: read until their rows expire."""


def legacy_cutoffs(now: int, retention: Retention) -> dict[str, int]:
    return {
        "rollup_300": now - retention.rollup_5m,
        "rollup_3600": now - retention.rollup_1h,
        "rollup_86400": now - retention.rollup_1d,
    }


def expire_table_chunk(table: str, cutoff: int, limit: int) -> Step[int]:
    """Deletes up to `limit` rows of a legacy rollup table whose bucket starts before
    `cutoff`; returns how many."""
    deleted: int = yield Query(
        f"DELETE FROM {table} WHERE (series_id, bucket) IN ("
        f"SELECT series_id, bucket FROM {table} WHERE bucket < ? ORDER BY bucket LIMIT ?)",
        (cutoff, limit),
        count=True,
    )
    return deleted
