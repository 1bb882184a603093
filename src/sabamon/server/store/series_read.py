"""Series reads over the head and sealed chunks, merged transparently.

Raw points of a range are the raw chunks' points overlaid by the head's (the head is
newer: a late or overwriting point for a sealed window waits there until the window is
resealed). Averages of 1- and 5-minute steps are computed from those raw points with
numpy; hourly and daily ones from the hourly sums stored with each chunk at sealing (or
from its raw points where the head holds points of its window), so they equal the raw
averages; where raw data has expired, the 5-minute rollup
chunks made from it at expiry answer instead, and the rollup tables of the layout before
chunks answer for data not yet converted. Per bucket the source holding the most points
wins (raw on a tie): the sources cover whole buckets, except at the old layout's hourly
expiry edge, where the fuller rollup is the right one.

A corrupt chunk is logged with its series and window (once an hour per chunk) and left
out; the rest of the series reads.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import numpy as np

from . import chunk
from .head import BUCKETS_PER_QUERY, END, IN_HEAD, buckets_with, head_buckets
from .ops import Query, Step
from .records import OwnerKind
from .series_store import RAW_STEP, SeriesRead, bucket_start, step_for_span

MAX_SPAN = 86400
"""The longest chunk window (s): a chunk starting this long before a range may reach it."""
ROLLUP_SOURCES = (300, 3600)
"""Steps of rollup chunks."""
REPORT_EVERY = 3600.0
"""A corrupt chunk is logged again after this many seconds."""

Sums = dict[int, tuple[float, int]]
Raw = tuple[np.ndarray, np.ndarray]
Entries = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(times, totals, counts): raw points with count 1, or sums of buckets."""

log = logging.getLogger(__name__)
_reported: OrderedDict[tuple[int, int, int], float] = OrderedDict()


def report_corrupt(error: chunk.CorruptChunk, step: int) -> None:
    """Logs a corrupt chunk once per `REPORT_EVERY` (a bounded memory of 1,024 chunks)."""
    key, now = (error.series_id, step, error.start), time.monotonic()
    if now - _reported.get(key, -REPORT_EVERY) < REPORT_EVERY:
        return
    _reported[key] = now
    _reported.move_to_end(key)
    while len(_reported) > 1024:
        _reported.popitem(last=False)
    log.error(
        "event=corrupt_chunk series_id=%d step=%d window_start=%d error=%s",
        error.series_id, step, error.start, error,
    )  # fmt: skip


def merge_raw(parts: Sequence[Raw]) -> Raw:
    """One ascending (times, values) from parts in order of precedence (a later part's
    value wins at an equal time). Chunks come in time order without overlap, so the common
    case is a concatenation checked in one pass, without a sort."""
    if not parts:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    if len(parts) == 1:
        return parts[0]
    times = np.concatenate([p[0] for p in parts])
    values = np.concatenate([p[1] for p in parts])
    if bool(np.all(times[1:] > times[:-1])):
        return times, values
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    last = np.append(times[1:] != times[:-1], True)
    return times[last], values[last]


def decoded_raw(series_id: int, rows: Sequence[tuple[int, bytes]]) -> list[Raw]:
    """The raw chunks (start, blob) decoded; a corrupt one is reported and skipped."""
    parts: list[Raw] = []
    for start, blob in rows:
        try:
            parts.append(chunk.decode_raw(blob, series_id, start))
        except chunk.CorruptChunk as error:
            report_corrupt(error, RAW_STEP)
    return parts


class SeriesRows(NamedTuple):
    """What one read of a series fetches in one statement (`series_rows`)."""

    series_id: int
    sealed: list[tuple[int, int, Any]]
    """[(start, span, data or hourly sums)] of the raw chunks that may reach into the range,
    by start."""
    head: list[tuple[int, float]]
    """[(time, value)] of the head's points in the range, by time."""
    rollups: list[tuple[int, int, bytes]]
    """[(step, start, data)] of the rollup chunks of the steps asked for, by start."""


def series_rows(
    org_id: str,
    kind: OwnerKind,
    owner: str,
    name: str,
    low: int,
    high: int,
    column: Literal["data", "hourly"],
    rollup_steps: Sequence[int],
) -> Step[SeriesRows | None]:
    """The series' id, its raw chunks (their `column`) that may reach into [low, high), the
    head's points in it and the rollup chunks of `rollup_steps` that may reach into it, in
    one statement (one round trip, one snapshot); None for an unknown series."""
    series = "(SELECT id FROM series WHERE org_id = ? AND kind = ? AND owner = ? AND name = ?)"
    key = (org_id, kind, owner, name)
    # the head's branch first: PostgreSQL types the columns of a UNION pair by pair, and
    # two untyped NULLs would make a text column
    buckets, bucket_params = buckets_with(low, high)
    statement = (
        f"{buckets}SELECT 1, ts, 0, NULL, value FROM points WHERE {IN_HEAD} "
        f"AND series_id = {series} AND ts >= ? AND ts < ? "
        f"UNION ALL SELECT 0, start, span, {column}, NULL FROM chunks "
        f"WHERE series_id = {series} AND step = ? AND start > ? AND start < ?"
    )
    params: tuple[object, ...] = (
        *bucket_params,
        *key,
        low,
        high,
        *key,
        RAW_STEP,
        low - MAX_SPAN,
        high,
    )
    if rollup_steps:
        statement += (
            f" UNION ALL SELECT 2, start, step, data, NULL FROM chunks WHERE series_id = "
            f"{series} AND step IN ({', '.join('?' for _ in rollup_steps)}) "
            "AND start > ? AND start < ?"
        )
        params += (*key, *rollup_steps, low - MAX_SPAN, high)
    statement += (
        " UNION ALL SELECT 3, id, 0, NULL, NULL FROM series "
        "WHERE org_id = ? AND kind = ? AND owner = ? AND name = ?"
    )
    params += key
    rows = yield Query(statement + " ORDER BY 1, 2", params)
    if not rows or rows[-1][0] != 3:
        return None
    return SeriesRows(
        int(rows[-1][1]),
        [(start, span, blob) for source, start, span, blob, _ in rows if source == 0],
        [(ts, value) for source, ts, _, _, value in rows if source == 1],
        [(step, start, blob) for source, start, step, blob, _ in rows if source == 2],
    )


def raw_points(rows: SeriesRows, low: int, high: int) -> Raw:
    """The raw points in [low, high): sealed chunks overlaid by the head."""
    sealed = [(start, blob) for start, span, blob in rows.sealed if start + span > low]
    times, values = merge_raw([*decoded_raw(rows.series_id, sealed), head_arrays(rows.head)])
    keep = (times >= low) & (times < high)
    return times[keep], values[keep]


def head_arrays(rows: Sequence[tuple[int, float]]) -> Raw:
    """Head rows [(time, value)] as arrays."""
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.float64)
    times, values = zip(*rows, strict=True)
    return np.array(times, np.int64), np.array(values, np.float64)


def bucket_arrays(
    times: np.ndarray, totals: np.ndarray, counts: np.ndarray, step: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bucket starts, sums, counts) per `step` bucket of (time, total, count) entries, in
    one pass when the times ascend (as raw points do)."""
    buckets = times - times % step
    if not bool(np.all(buckets[1:] >= buckets[:-1])):
        order = np.argsort(buckets, kind="stable")
        buckets, totals, counts = buckets[order], totals[order], counts[order]
    starts = np.flatnonzero(np.append(True, buckets[1:] != buckets[:-1]))
    return buckets[starts], np.add.reduceat(totals, starts), np.add.reduceat(counts, starts)


def bucket_sums(times: np.ndarray, totals: np.ndarray, counts: np.ndarray, step: int) -> Sums:
    """`bucket_arrays` as {bucket start: (sum, count)}."""
    if not len(times):
        return {}
    buckets, sums, ns = bucket_arrays(times, totals, counts, step)
    # tolist() converts whole arrays to Python numbers at once: a third of a week-long
    # read went to converting numpy scalars one at a time
    return dict(zip(buckets.tolist(), zip(sums.tolist(), ns.tolist(), strict=True), strict=True))


def rollup_chunk_sums(rows: SeriesRows, low: int, high: int, step: int) -> Sums:
    """(sum, count) per `step` bucket from the rollup chunks (of steps dividing `step`)."""
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for source, start, blob in rows.rollups:
        try:
            parts.append(chunk.decode_rollup(blob, rows.series_id, start))
        except chunk.CorruptChunk as error:
            report_corrupt(error, source)
    if not parts:
        return {}
    times, totals, counts = (np.concatenate([p[i] for p in parts]) for i in range(3))
    keep = (times >= low) & (times < high)
    return bucket_sums(times[keep], totals[keep], counts[keep], step)


def table_sums(series_id: int, low: int, high: int, step: int, emptied: set[str]) -> Step[Sums]:
    """(sum, count) per bucket from the rollup table of the layout before chunks, unless
    it is in `emptied`; a table found empty joins it. Nothing writes these tables any
    more (`migrate_series` converts and deletes their rows, expiry deletes old ones), so
    one found empty stays empty and is not read again."""
    table = f"rollup_{int(step)}"
    if table in emptied:
        return {}
    rows = yield Query(
        f"SELECT bucket, total, n FROM {table} WHERE series_id = ? AND bucket >= ? "
        f"AND bucket < ? UNION ALL SELECT NULL, NULL, NULL "
        f"WHERE NOT EXISTS (SELECT 1 FROM {table})",
        (series_id, low, high),
    )
    if rows and rows[0][0] is None:
        emptied.add(table)
        return {}
    return {bucket: (total, n) for bucket, total, n in rows}


def hourly_or_raw(rows: SeriesRows, low: int, high: int) -> Step[list[Entries]]:
    """Entries (time, total, count) for [low, high), both multiples of an hour: each
    sealed chunk's hourly sums where the head holds nothing of its window, raw points
    (chunks merged with the head) elsewhere."""
    series_id, head = rows.series_id, rows.head
    head_times = np.array([row[0] for row in head], np.int64)
    entries: list[Entries] = []
    raw_starts: list[int] = []
    for start, span, hourly in rows.sealed:
        if start + span <= low:
            continue
        held = np.any((head_times >= start) & (head_times < start + span))
        if hourly is not None and not held:
            try:
                entries.append(chunk.decode_rollup(hourly, series_id, start))
                continue
            except chunk.CorruptChunk as error:
                report_corrupt(error, 3600)
        raw_starts.append(start)
    parts: list[Raw] = []
    if raw_starts:
        blobs = yield Query(
            f"SELECT start, data FROM chunks WHERE series_id = ? AND step = ? "
            f"AND start IN ({', '.join('?' for _ in raw_starts)}) ORDER BY start",
            (series_id, RAW_STEP, *raw_starts),
        )
        parts = decoded_raw(series_id, blobs)
    times, values = merge_raw([*parts, head_arrays(head)])
    entries.append((times, values, np.ones(len(times), np.int64)))
    return entries


def read_points(
    org_id: str,
    kind: OwnerKind,
    owner: str,
    name: str,
    frm: int,
    to: int,
    emptied: set[str],
) -> Step[SeriesRead | None]:
    """Per-bucket averages for buckets starting in [bucket_start(frm), to], every source
    merged (`emptied`: the legacy rollup tables known empty, see `table_sums`)."""
    step = step_for_span(to - frm)
    low, high = bucket_start(frm, step), bucket_start(to, step) + step
    sources = [s for s in ROLLUP_SOURCES if step % s == 0] if step != RAW_STEP else []
    column: Literal["data", "hourly"] = "hourly" if step >= 3600 else "data"
    rows = yield from series_rows(org_id, kind, owner, name, low, high, column, sources)
    if rows is None:
        return None
    if step >= 3600:
        entries = yield from hourly_or_raw(rows, low, high)
        times, totals, counts = (np.concatenate([e[i] for e in entries]) for i in range(3))
        keep = (times >= low) & (times < high)
        sums = bucket_sums(times[keep], totals[keep], counts[keep], step)
    else:
        times, values = raw_points(rows, low, high)
        sums = bucket_sums(times, values, np.ones(len(times), np.int64), step)
    if step != RAW_STEP:
        for other in (
            rollup_chunk_sums(rows, low, high, step),
            (yield from table_sums(rows.series_id, low, high, step, emptied)),
        ):
            for bucket, (total, n) in other.items():
                if n > sums.get(bucket, (0.0, 0))[1]:
                    sums[bucket] = (total, n)
    return SeriesRead(step, [(b, total / n) for b, (total, n) in sorted(sums.items()) if n])


def latest_point(series_id: int, buckets: Sequence[int]) -> Step[tuple[int, float] | None]:
    """The newest raw point of a series: the head's, unless the last chunk is newer.
    `buckets` are the head's (`head.head_buckets`), ascending: they are searched newest
    first, a statement's worth at a time, until one holds a point of the series."""
    newest: tuple[int, float] | None = None
    for end in range(len(buckets), 0, -BUCKETS_PER_QUERY):
        part = buckets[max(0, end - BUCKETS_PER_QUERY) : end]
        head = yield Query(
            f"SELECT ts, value FROM points WHERE bucket IN ({', '.join('?' for _ in part)}) "
            "AND series_id = ? ORDER BY ts DESC LIMIT 1",
            (*part, series_id),
        )
        if head:
            newest = (int(head[0][0]), float(head[0][1]))
            break
    last = yield Query(
        "SELECT start, span, data FROM chunks WHERE series_id = ? AND step = ? "
        "ORDER BY start DESC LIMIT 1",
        (series_id, RAW_STEP),
    )
    if last and (newest is None or newest[0] < last[0][0] + last[0][1]):
        for times, values in decoded_raw(series_id, [(last[0][0], last[0][2])]):
            if len(times) and (newest is None or times[-1] > newest[0]):
                newest = (int(times[-1]), float(values[-1]))
    return newest


def latest_points(
    org_id: str, host_ids: Sequence[str], names: Sequence[str]
) -> Step[dict[str, dict[str, tuple[int, float] | None]]]:
    result: dict[str, dict[str, tuple[int, float] | None]] = {}
    buckets = yield from head_buckets(0, END)  # once, not for every series
    for host_id in host_ids:
        rows = yield Query(
            "SELECT name, id FROM series WHERE org_id = ? AND kind = 'host' AND owner = ?",
            (org_id, host_id),
        )
        ids = dict(rows)
        latest: dict[str, tuple[int, float] | None] = {}
        for name in names:
            latest[name] = (yield from latest_point(ids[name], buckets)) if name in ids else None
        result[host_id] = latest
    return result


def recent_points(
    org_id: str,
    kind: OwnerKind,
    names: Sequence[str],
    since: int,
    until: int,
    owners: Sequence[str] | None = None,
) -> Step[dict[tuple[str, str], list[tuple[int, float]]]]:
    """{(owner, name): [(time, value)] ascending} within [since, until] for every owner
    (or those in `owners`), from the head and any chunk reaching into the range.

    A name may end in `.*.<last>` to match one segment (`filesystem.*.used`).
    """
    exact = sorted({n for n in names if "*" not in n})
    patterns = sorted({n.replace("*", "%") for n in names if "*" in n})
    clauses = []
    if exact:
        clauses.append(f"s.name IN ({', '.join('?' for _ in exact)})")
    clauses += ["s.name LIKE ?" for _ in patterns]
    if not clauses or owners == []:
        return {}
    only = sorted(set(owners or ()))
    owned = f" AND s.owner IN ({', '.join('?' for _ in only)})" if only else ""
    where = f"s.org_id = ? AND s.kind = ? AND ({' OR '.join(clauses)}){owned}"
    params = (org_id, kind, *exact, *patterns, *only)
    buckets = yield from head_buckets(since, until + 1)
    head: list[tuple[int, str, str, int, float]] = []
    for at in range(0, len(buckets), BUCKETS_PER_QUERY):
        part = buckets[at : at + BUCKETS_PER_QUERY]
        head += yield Query(
            "SELECT s.id, s.owner, s.name, p.ts, p.value FROM series s "
            f"JOIN points p ON p.bucket IN ({', '.join('?' for _ in part)}) "
            f"AND p.series_id = s.id WHERE {where} AND p.ts >= ? AND p.ts <= ? "
            "ORDER BY s.id, p.ts",
            (*part, *params, since, until),
        )
    sealed = yield Query(
        "SELECT s.id, s.owner, s.name, c.start, c.span, c.data FROM series s "
        f"JOIN chunks c ON c.series_id = s.id WHERE {where} "
        "AND c.step = ? AND c.start > ? AND c.start <= ? ORDER BY s.id, c.start",
        (*params, RAW_STEP, since - MAX_SPAN, until),
    )
    keys: dict[int, tuple[str, str]] = {}
    head_rows: dict[int, list[tuple[int, float]]] = {}
    for sid, owner, name, ts, value in head:
        keys[sid] = (owner, name)
        head_rows.setdefault(sid, []).append((ts, value))
    chunk_rows: dict[int, list[tuple[int, bytes]]] = {}
    for sid, owner, name, start, span, blob in sealed:
        if start + span > since:
            keys[sid] = (owner, name)
            chunk_rows.setdefault(sid, []).append((start, blob))
    out: dict[tuple[str, str], list[tuple[int, float]]] = {}
    for sid in sorted(keys):
        rows = head_rows.get(sid, [])
        if sid not in chunk_rows:
            out[keys[sid]] = [(int(t), float(v)) for t, v in rows]
            continue
        times, values = merge_raw([*decoded_raw(sid, chunk_rows[sid]), head_arrays(rows)])
        keep = (times >= since) & (times <= until)
        points = [(int(t), float(v)) for t, v in zip(times[keep], values[keep], strict=True)]
        if points:
            out[keys[sid]] = points
    return dict(sorted(out.items()))
