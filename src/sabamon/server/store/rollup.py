"""Bucket maths and rollup for the time series tables (retention is `retention.py`).

Raw points live in `points` (one row per series and second). Rollup tables
`rollup_300`, `rollup_3600` and `rollup_86400` hold (series, bucket start, sum, count) so
that averages compose exactly: an hour is the sum of its twelve 5-minute sums. Every write
marks its 5-minute bucket in `dirty_buckets`; `rollup_chunk` recomputes marked buckets
from raw points and then their hour and day from the level below, then deletes the marks.

Racing writes: a write inserts its mark or, when the mark exists, only locks it (no new
row version per write). `rollup_chunk` locks the marks it takes first, in the same
(series, bucket) order, so it waits for writers holding them and reads their points; a
writer arriving later waits for the rollup to commit and then inserts a fresh mark.
SQLite runs one write transaction at a time, which gives the same order without locks.
"""

from __future__ import annotations

from .ops import Many, Query, Step
from .series_store import ROLLUP_STEPS, bucket_start

DIRTY_STEP = ROLLUP_STEPS[0]


def rollup_table(step: int) -> str:
    return f"rollup_{step}"


_ROLL_FROM_RAW = (
    "INSERT INTO rollup_300 (series_id, bucket, total, n) "
    "SELECT series_id, ?, sum(value), count(*) FROM points "
    "WHERE series_id = ? AND ts >= ? AND ts < ? GROUP BY series_id "
    "ON CONFLICT (series_id, bucket) DO UPDATE SET total = excluded.total, n = excluded.n"
)


def _roll_from_level(source: str, target: str) -> str:
    return (
        f"INSERT INTO {target} (series_id, bucket, total, n) "
        f"SELECT series_id, ?, sum(total), CAST(sum(n) AS BIGINT) FROM {source} "
        "WHERE series_id = ? AND bucket >= ? AND bucket < ? GROUP BY series_id "
        "ON CONFLICT (series_id, bucket) DO UPDATE SET total = excluded.total, n = excluded.n"
    )


def rollup_chunk(now: int, limit: int) -> Step[int]:
    """Rolls up to `limit` dirty 5-minute buckets that ended by `now`; returns buckets written."""
    marks = yield Query(
        "SELECT series_id, bucket FROM dirty_buckets WHERE (series_id, bucket) IN ("
        "SELECT series_id, bucket FROM dirty_buckets WHERE bucket <= ? "
        "ORDER BY bucket, series_id LIMIT ?) ORDER BY series_id, bucket",
        (now - DIRTY_STEP, limit),
        lock_rows=True,
    )
    if not marks:
        return 0
    five = sorted({(sid, bucket) for sid, bucket in marks})
    yield Many(_ROLL_FROM_RAW, [(b, sid, b, b + 300) for sid, b in five])
    written = len(five)
    finer = five
    for source_step, step in ((300, 3600), (3600, 86400)):
        coarse = sorted({(sid, bucket_start(b, step)) for sid, b in finer})
        sql = _roll_from_level(rollup_table(source_step), rollup_table(step))
        yield Many(sql, [(b, sid, b, b + step) for sid, b in coarse])
        written += len(coarse)
        finer = coarse
    yield Many(
        "DELETE FROM dirty_buckets WHERE series_id = ? AND bucket = ?",
        sorted(marks),
    )
    return written
