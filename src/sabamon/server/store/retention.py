"""Retention: deleting data past its age, at a cost proportional to what is deleted.

Raw points and 5-minute rollups are expired by whole hours. The hourly rollup table is
the ledger of which series hold data in an hour (a row exists for every series written
in it, found through the index on `bucket`), so an hour's expiry visits only those series
and deletes their rows of that hour through the primary key. A cursor per table in
`expiry_cursors` (hour, last series done) carries the walk across chunks, calls and
restarts: each chunk is one transaction, so stopping between chunks loses nothing.
Hourly and daily rollups are deleted by bucket through their index. Data therefore lives
up to an hour past its retention, and no longer.

The ledger needs rollup to have run over the hour, which maintenance does first: writes
are at most 24 h old and rollup runs every minute, while retentions are days long.
"""

from __future__ import annotations

from .base import Retention
from .ops import Query, Step, Upsert

HOUR = 3600
LEDGER = "rollup_3600"

HOURLY_TABLES = {"points": "ts", "rollup_300": "bucket"}
"""Tables expired hour by hour through the ledger, with their time column."""


def cutoffs(now: int, retention: Retention) -> dict[str, int]:
    """Per table, the time before which its rows are expired."""
    return {
        "points": now - retention.raw_1m,
        "rollup_300": now - retention.rollup_5m,
        "rollup_3600": now - retention.rollup_1h,
        "rollup_86400": now - retention.rollup_1d,
    }


def _cursor(table: str) -> Step[tuple[int, int]]:
    rows = yield Query("SELECT hour, after_series FROM expiry_cursors WHERE tbl = ?", (table,))
    return (rows[0][0], rows[0][1]) if rows else (0, 0)


def _save_cursor(table: str, hour: int, after_series: int) -> Step[None]:
    yield Upsert(
        "expiry_cursors",
        ("tbl", "hour", "after_series"),
        ("text", "bigint", "bigint"),
        "(tbl) DO UPDATE SET hour = excluded.hour, after_series = excluded.after_series",
        [(table, hour, after_series)],
    )


def _ledger_series(hour: int, after_series: int, limit: int) -> Step[list[int]]:
    rows = yield Query(
        f"SELECT series_id FROM {LEDGER} WHERE bucket = ? AND series_id > ? "
        "ORDER BY series_id LIMIT ?",
        (hour, after_series, limit),
    )
    return [row[0] for row in rows]


def expire_hour_chunk(table: str, cutoff: int, limit: int) -> Step[tuple[int, bool]]:
    """Deletes `table`'s rows of up to `limit` series in the oldest hour not yet expired,
    if that hour ended by `cutoff`. Returns (rows deleted, whether more may be due)."""
    column = HOURLY_TABLES[table]
    hour, after = yield from _cursor(table)
    if hour + HOUR > cutoff:
        return 0, False
    ids = yield from _ledger_series(hour, after, limit)
    if not ids:  # this hour is done: on to the next hour holding data, if it is due
        rows = yield Query(f"SELECT min(bucket) FROM {LEDGER} WHERE bucket > ?", (hour,))
        following = rows[0][0]
        if following is None or following + HOUR > cutoff:
            yield from _save_cursor(table, hour + HOUR, 0)
            return 0, False
        hour, after = following, 0
        ids = yield from _ledger_series(hour, after, limit)
    deleted = yield Query(
        f"DELETE FROM {table} WHERE series_id IN ("
        f"SELECT series_id FROM {LEDGER} WHERE bucket = ? AND series_id > ? AND series_id <= ?"
        f") AND {column} >= ? AND {column} < ?",
        (hour, after, ids[-1], hour, hour + HOUR),
        count=True,
    )
    yield from _save_cursor(table, hour, ids[-1])
    return deleted, True


def ledger_floor() -> Step[int]:
    """The oldest hour an hourly walk may still visit: ledger rows from it on are kept."""
    rows = yield Query(
        "SELECT tbl, hour FROM expiry_cursors WHERE tbl IN (?, ?)", tuple(HOURLY_TABLES)
    )
    hours = dict(rows)
    return min(hours.get(table, 0) for table in HOURLY_TABLES)


def expire_bucket_chunk(table: str, cutoff: int, limit: int) -> Step[int]:
    """Deletes up to `limit` rows of a rollup table whose bucket starts before `cutoff`;
    the hourly table keeps the rows the hourly walks have not passed yet."""
    if table == LEDGER:
        cutoff = min(cutoff, (yield from ledger_floor()))
    deleted: int = yield Query(
        f"DELETE FROM {table} WHERE (series_id, bucket) IN ("
        f"SELECT series_id, bucket FROM {table} WHERE bucket < ? ORDER BY bucket LIMIT ?)",
        (cutoff, limit),
        count=True,
    )
    return deleted
