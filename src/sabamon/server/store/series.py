"""Time series steps: writing points, reading them at the span's granularity, latest values.

Reads of 5-minute and coarser steps come from the rollup tables; buckets still marked dirty
(written since the last rollup) are recomputed from raw points, so a read gives the same
averages whether or not `rollup()` has run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .base import OwnerKind, Point, WriteResult
from .ops import Many, Query, Step, Upsert
from .rollup import DIRTY_STEP, rollup_table
from .series_store import RAW_STEP, WRITE_WINDOW, SeriesRead, bucket_start, step_for_span

SeriesKey = tuple[str, str, str, str]  # (org_id, kind, owner, name)
SeriesCache = dict[SeriesKey, int]


def series_ids(
    org_id: str,
    kind: OwnerKind,
    keys: Iterable[tuple[str, str]],
    cache: SeriesCache,
    created: SeriesCache,
) -> Step[dict[tuple[str, str], int]]:
    """Ids of the (owner, name) series, created when missing. Ids found in the database are
    put in `created`, not in `cache`: the caller adds them to the cache once the
    transaction has committed, so a rollback leaves no id that names no row."""
    found: dict[tuple[str, str], int] = {}
    missing: list[tuple[str, str]] = []
    for owner, name in keys:
        key = (org_id, kind, owner, name)
        sid = cache.get(key)
        if sid is None:
            sid = created.get(key)
        if sid is None:
            missing.append((owner, name))
        else:
            found[(owner, name)] = sid
    if not missing:
        return found
    yield Upsert(
        "series",
        ("org_id", "kind", "owner", "name"),
        ("text", "text", "text", "text"),
        "(org_id, kind, owner, name) DO NOTHING",
        sorted((org_id, kind, owner, name) for owner, name in missing),
    )
    for owner in sorted({owner for owner, _ in missing}):
        rows = yield Query(
            "SELECT name, id FROM series WHERE org_id = ? AND kind = ? AND owner = ?",
            (org_id, kind, owner),
        )
        for name, sid in rows:
            created[(org_id, kind, owner, name)] = sid
    found.update({key: created[(org_id, kind, *key)] for key in missing})
    return found


@dataclass(frozen=True)
class PointBatch:
    """One write_points call, so a backend can commit several in one statement."""

    org_id: str
    kind: OwnerKind
    points: Sequence[Point]
    now: int
    earliest: int
    """Points before this are dropped (`now - WRITE_WINDOW` unless replaying a backlog)."""


def write_point_batches(
    batches: Sequence[PointBatch], cache: SeriesCache, created: SeriesCache
) -> Step[list[WriteResult]]:
    """Writes several batches with one upsert per table; a later batch wins on a duplicate.
    Series it creates go into `created` (see `series_ids`)."""
    values: dict[tuple[int, int], float] = {}
    results: list[WriteResult] = []
    seen: dict[tuple[str, str], int] = {}  # (org, host) -> newest point time, capped at now
    for batch in batches:
        now = batch.now
        low, high = batch.earliest, now + WRITE_WINDOW
        kept = [p for p in batch.points if low <= p.time <= high]
        ids = yield from series_ids(
            batch.org_id, batch.kind, {(p.owner_id, p.name) for p in kept}, cache, created
        )
        newest: dict[str, int] = {}
        for p in kept:
            at = int(p.time)
            values[(ids[(p.owner_id, p.name)], at)] = float(p.value)
            if newest.get(p.owner_id, -1) < at:
                newest[p.owner_id] = at
        if batch.kind == "host":
            for host_id, at in newest.items():
                key, at = (batch.org_id, host_id), min(at, now)
                if seen.get(key, -1) < at:
                    seen[key] = at
        results.append(WriteResult(len(kept), len(batch.points) - len(kept)))
    if not values:
        return results
    yield from _mark_hosts_seen(seen)
    rows = [(sid, t, values[sid, t]) for sid, t in sorted(values)]
    yield Upsert(
        "points",
        ("series_id", "ts", "value"),
        ("bigint", "bigint", "float8"),
        "(series_id, ts) DO UPDATE SET value = excluded.value",
        rows,
    )
    # A mark that exists is only locked, not rewritten: the lock orders this write against
    # a concurrent rollup (which locks marks in the same (series, bucket) order, see
    # rollup.py) at the cost of no new row version per write. Sorted rows give sorted,
    # adjacent duplicates, so `dict.fromkeys` dedupes them in order without another sort.
    yield Upsert(
        "dirty_buckets",
        ("series_id", "bucket"),
        ("bigint", "bigint"),
        "(series_id, bucket) DO UPDATE SET bucket = excluded.bucket WHERE false",
        list(dict.fromkeys((sid, t - t % DIRTY_STEP) for sid, t, _ in rows)),
    )
    return results


def _mark_hosts_seen(seen: dict[tuple[str, str], int]) -> Step[None]:
    """Moves each host's `host_last_seen` forward (connectivity monitors read it)."""
    yield Upsert(
        "host_last_seen",
        ("org_id", "host_id", "seen_at"),
        ("text", "text", "bigint"),
        "(org_id, host_id) DO UPDATE SET seen_at = excluded.seen_at "
        "WHERE excluded.seen_at > host_last_seen.seen_at",
        sorted((org_id, host_id, at) for (org_id, host_id), at in seen.items()),
    )


def find_series(org_id: str, kind: OwnerKind, owner: str, name: str) -> Step[int | None]:
    rows = yield Query(
        "SELECT id FROM series WHERE org_id = ? AND kind = ? AND owner = ? AND name = ?",
        (org_id, kind, owner, name),
    )
    return rows[0][0] if rows else None


def read_points(
    org_id: str, kind: OwnerKind, owner: str, name: str, frm: int, to: int
) -> Step[SeriesRead | None]:
    """Per-bucket averages for buckets starting in [bucket_start(frm), to]."""
    series_id = yield from find_series(org_id, kind, owner, name)
    if series_id is None:
        return None
    step = step_for_span(to - frm)
    low, high = bucket_start(frm, step), bucket_start(to, step) + step
    if step == RAW_STEP:
        sums = yield from raw_sums(series_id, low, high, step)
    else:
        sums = yield from rollup_sums(series_id, low, high, step)
    return SeriesRead(step, [(b, total / n) for b, (total, n) in sorted(sums.items()) if n])


def raw_sums(series_id: int, low: int, high: int, step: int) -> Step[dict[int, tuple[float, int]]]:
    """(sum, count) per `step` bucket of the raw points in [low, high)."""
    rows = yield Query(
        f"SELECT ts - ts % {int(step)}, sum(value), count(*) FROM points "
        "WHERE series_id = ? AND ts >= ? AND ts < ? GROUP BY 1 ORDER BY 1",
        (series_id, low, high),
    )
    return {bucket: (total, n) for bucket, total, n in rows}


def rollup_sums(
    series_id: int, low: int, high: int, step: int
) -> Step[dict[int, tuple[float, int]]]:
    """(sum, count) per bucket from the rollup table, dirty buckets recomputed from raw."""
    rows = yield Query(
        f"SELECT bucket, total, n FROM {rollup_table(step)} "
        "WHERE series_id = ? AND bucket >= ? AND bucket < ?",
        (series_id, low, high),
    )
    sums = {bucket: (total, n) for bucket, total, n in rows}
    dirty = yield Query(
        "SELECT bucket FROM dirty_buckets WHERE series_id = ? AND bucket >= ? AND bucket < ?",
        (series_id, low, high),
    )
    stale = sorted({bucket_start(row[0], step) for row in dirty})
    for start, end in contiguous_ranges(stale, step):
        fresh = yield from raw_sums(series_id, start, end, step)
        for coarse in range(start, end, step):
            sums.pop(coarse, None)
        sums.update(fresh)
    return sums


def contiguous_ranges(starts: Sequence[int], step: int) -> list[tuple[int, int]]:
    """Sorted bucket starts merged into [start, end) runs: recent writes leave a run of
    dirty buckets, recomputed with one query instead of one per bucket."""
    ranges: list[tuple[int, int]] = []
    for start in starts:
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], start + step)
        else:
            ranges.append((start, start + step))
    return ranges


def latest_points(
    org_id: str, host_ids: Sequence[str], names: Sequence[str]
) -> Step[dict[str, dict[str, tuple[int, float] | None]]]:
    result: dict[str, dict[str, tuple[int, float] | None]] = {}
    for host_id in host_ids:
        rows = yield Query(
            "SELECT name, id FROM series WHERE org_id = ? AND kind = 'host' AND owner = ?",
            (org_id, host_id),
        )
        ids = dict(rows)
        latest: dict[str, tuple[int, float] | None] = {}
        for name in names:
            latest[name] = None
            if name in ids:
                last = yield Query(
                    "SELECT ts, value FROM points WHERE series_id = ? ORDER BY ts DESC LIMIT 1",
                    (ids[name],),
                )
                latest[name] = (last[0][0], last[0][1]) if last else None
        result[host_id] = latest
    return result


def series_count() -> Step[int]:
    """Series of every org and owner."""
    rows = yield Query("SELECT count(*) FROM series")
    return int(rows[0][0])


def metric_names(org_id: str, kind: OwnerKind, owner: str) -> Step[list[str]]:
    """Names posted for the owner; the external monitors' response times are not listed."""
    rows = yield Query(
        "SELECT name FROM series WHERE org_id = ? AND kind = ? AND owner = ? ORDER BY name",
        (org_id, kind, owner),
    )
    return [name for (name,) in rows if not name.startswith("__externalhttp.")]


def delete_owner_series(
    org_id: str, kind: OwnerKind, owner: str, cache: SeriesCache, names: Sequence[str] | None = None
) -> Step[list[int]]:
    """Deletes the owner's series (all, or those named) with their points and rollups;
    returns their ids."""
    rows = yield Query(
        "SELECT name, id FROM series WHERE org_id = ? AND kind = ? AND owner = ?",
        (org_id, kind, owner),
    )
    if names is not None:
        wanted = set(names)
        rows = [(name, sid) for name, sid in rows if name in wanted]
    for name, _ in rows:
        cache.pop((org_id, kind, owner, name), None)
    ids = [row[1] for row in rows]
    for table in ("points", "rollup_300", "rollup_3600", "rollup_86400", "dirty_buckets"):
        yield Many(f"DELETE FROM {table} WHERE series_id = ?", [(sid,) for sid in ids])
    yield Many("DELETE FROM series WHERE id = ?", [(sid,) for sid in ids])
    return ids


def host_last_seen(org_id: str) -> Step[dict[str, int]]:
    """{host id: the time of its newest point, any metric} (kept by the point writes)."""
    rows = yield Query("SELECT host_id, seen_at FROM host_last_seen WHERE org_id = ?", (org_id,))
    return {row[0]: int(row[1]) for row in rows}


def recent_points(
    org_id: str,
    kind: OwnerKind,
    names: Sequence[str],
    since: int,
    until: int,
    owners: Sequence[str] | None = None,
) -> Step[dict[tuple[str, str], list[tuple[int, float]]]]:
    """{(owner, name): [(time, value)] ascending} within [since, until] for every owner
    (or those in `owners`).

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
    rows = yield Query(
        "SELECT s.owner, s.name, p.ts, p.value FROM series s JOIN points p ON p.series_id = s.id "
        f"WHERE s.org_id = ? AND s.kind = ? AND ({' OR '.join(clauses)}){owned} "
        "AND p.ts >= ? AND p.ts <= ? ORDER BY s.owner, s.name, p.ts",
        (org_id, kind, *exact, *patterns, *only, since, until),
    )
    out: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for owner, name, ts, value in rows:
        out[(owner, name)].append((ts, value))
    return dict(out)
