"""The head's layout: the table `points`, a row per (bucket, series_id, ts).

`bucket` is the start of the point's five minutes (`HEAD_BUCKET`). Agents post every
series' point of a minute at about the same time, so keyed by series first, a commit of N
points wrote N pages (each series' rows live in their own page); keyed by bucket first,
it writes the few pages of its five minutes (bench/sustained.py; a 2.6 M-point head took
1.1 µs a point to write this way against 2.2–4.8 µs growing with the head, and wrote
about 170 bytes of WAL a point against 2 KB). A series' rows are found by one index seek
per bucket the head holds: `buckets_with` lists those buckets by a loose index scan (one
seek each), so reads never walk other series' rows.
"""

from __future__ import annotations

from .ops import Query, Step

HEAD_BUCKET = 300
"""Seconds of points sharing a bucket of the head's key."""
BUCKETS_PER_QUERY = 500
"""Buckets named per statement (well under SQLite's 32,766 bound parameters)."""
END = 2**62
"""A time after every point's: `buckets_with(0, END)` lists every bucket of the head."""
IN_HEAD = "bucket IN (SELECT b FROM head_buckets)"
"""The condition on `points.bucket` that goes with `buckets_with`'s clause."""


def bucket_of(ts: int) -> int:
    """The head bucket holding a point at `ts` (s)."""
    return ts - ts % HEAD_BUCKET


def buckets_with(low: int, high: int) -> tuple[str, tuple[int, int]]:
    """A `WITH RECURSIVE head_buckets(b) AS (…)` clause (to start a statement that uses
    `IN_HEAD`) and its parameters: the buckets the head holds that may have points in
    [low, high), each found by one index seek (a loose index scan). The list may end with
    one bucket past `high`, or NULL; the statement's own time bounds leave them out."""
    return (
        "WITH RECURSIVE head_buckets(b) AS (SELECT min(bucket) FROM points WHERE bucket >= ? "
        "UNION ALL SELECT (SELECT min(bucket) FROM points WHERE bucket > b) "
        "FROM head_buckets WHERE b < ?) ",
        (bucket_of(low), high),
    )


def head_buckets(low: int, high: int) -> Step[list[int]]:
    """The buckets the head holds that may have points in [low, high), ascending: for a
    statement that joins many series to the head, where an explicit list lets PostgreSQL
    plan index seeks (it takes a recursive clause for 30-odd rows and would scan the head)."""
    clause, params = buckets_with(low, high)
    rows = yield Query(f"{clause}SELECT b FROM head_buckets WHERE b < ?", (*params, high))
    return [int(b) for (b,) in rows if b is not None]
