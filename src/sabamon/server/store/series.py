"""Series steps: ids, writing points into the head, names, last-seen times, deletion.

Points land in the head (`points`, a row per series and second keyed by five-minute bucket
first, see `head.py`: fast commit, overwrite by key, late points cheap) and an hour mark in
`head_windows`; `seal.py` later moves closed windows into compressed chunks and
`series_read.py` reads both.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .head import END, IN_HEAD, bucket_of, buckets_with
from .ops import Many, Query, Step, Upsert
from .records import OwnerKind, Point, WriteResult
from .series_store import WRITE_WINDOW

HEAD_HOUR = 3600
"""The head is marked, and sealed, by the hour."""
SERIES_TABLES = (
    "chunks", "head_windows", "rollup_300", "rollup_3600", "rollup_86400",
    "dirty_buckets",
)  # fmt: skip
"""Every table holding a series' data by `series_id` but the head (`points`, by bucket
first); the rollup tables and dirty marks are the layout before sealed chunks: read,
expired, never written."""


DEFAULT_MAX_SERIES = 1_000_000
"""Series one organisation may have (`--max-series-per-org`): a burst of new metric names
(a bug or an attack) stops there instead of filling the database."""


SeriesKey = tuple[str, str, str, str]  # (org_id, kind, owner, name)
SeriesIds = dict[SeriesKey, int]
SeriesCache = OrderedDict[SeriesKey, int]
"""Series ids, least recently used first (`coalesce.py` evicts from the front)."""


NAMES_PER_QUERY = 500
"""Names looked up per statement (well under SQLite's 32,766 bound parameters)."""


COUNT_MAX_AGE = 60.0
"""Seconds a worker trusts its count of an organisation's series before counting again."""

OrgCount = tuple[int, float]
"""(series of one organisation, `SeriesCounts.clock` time when they were counted)."""


@dataclass
class SeriesCounts:
    """Series per organisation as one worker knows them, for the series limit: counted from
    `series` when first needed and again once older than `max_age` seconds, and moved by
    the series this worker creates and deletes. A write reserves the series it will create
    before it runs (a rollback leaves them counted until the next count: the limit errs
    towards refusing). Counting without a shared row to lock keeps series creation in
    concurrent transactions apart; the price is that a worker sees other workers' new
    series only at its next count, so with N workers an organisation can pass its limit by
    what the others created within `max_age`."""

    clock: Callable[[], float] = time.monotonic
    max_age: float = COUNT_MAX_AGE
    known: dict[str, OrgCount] = field(default_factory=dict)

    def fresh(self, org_id: str) -> OrgCount | None:
        found = self.known.get(org_id)
        if found is None or found[1] + self.max_age < self.clock():
            return None
        return found

    def reserve(self, org_id: str, count: OrgCount, limit: int, wanted: int) -> int:
        """How many of `wanted` new series fit under `limit`, the organisation having
        `count`; counts them at once, so a concurrent write of this worker sees them."""
        allowed = min(wanted, max(0, limit - count[0]))
        self.known[org_id] = (count[0] + allowed, count[1])
        return allowed

    def forget(self, org_id: str) -> None:
        """The next write creating series counts again (after a deletion)."""
        self.known.pop(org_id, None)


def series_ids(
    org_id: str,
    kind: OwnerKind,
    keys: Iterable[tuple[str, str]],
    cache: SeriesCache,
    created: SeriesIds,
    counts: SeriesCounts,
    max_series: int,
) -> Step[dict[tuple[str, str], int]]:
    """Ids of the (owner, name) series, created when missing while the organisation has
    fewer than `max_series` (as `counts` knows it, see `SeriesCounts`); series that would
    take it past the limit are left out of the answer. Ids found in the database are put
    in `created`, not in `cache`: the caller adds them to the cache once the transaction
    has committed, so a rollback leaves no id that names no row."""
    found: dict[tuple[str, str], int] = {}
    missing: list[tuple[str, str]] = []
    for pair in keys:  # each pair kept as the key of `found`: no tuple made again
        owner, name = pair
        key = (org_id, kind, owner, name)
        sid = cache.get(key)
        if sid is not None:
            cache.move_to_end(key)
        else:
            sid = created.get(key)
        if sid is None:
            missing.append(pair)
        else:
            found[pair] = sid
    if not missing:
        return found
    missing.sort()
    yield from _lookup(org_id, kind, missing, found, created)
    new = [key for key in missing if key not in found]
    if not new:
        return found
    count = counts.fresh(org_id)
    if count is None:
        rows = yield Query("SELECT count(*) FROM series WHERE org_id = ?", (org_id,))
        # a concurrent write of this worker may have counted (and reserved) meanwhile
        count = counts.fresh(org_id) or (int(rows[0][0]), counts.clock())
    allowed = new[: counts.reserve(org_id, count, max_series, len(new))]
    if allowed:
        yield Upsert(
            "series",
            ("org_id", "kind", "owner", "name"),
            ("text", "text", "text", "text"),
            "(org_id, kind, owner, name) DO NOTHING",
            [(org_id, kind, owner, name) for owner, name in allowed],
        )
        yield from _lookup(org_id, kind, allowed, found, created)
    return found


def _lookup(
    org_id: str,
    kind: OwnerKind,
    keys: Sequence[tuple[str, str]],
    found: dict[tuple[str, str], int],
    created: SeriesIds,
) -> Step[None]:
    """Puts the ids of those of the sorted `keys` that exist into `found` and `created`,
    reading only the names asked for (never every series of an owner)."""
    by_owner: dict[str, list[str]] = {}
    for owner, name in keys:
        by_owner.setdefault(owner, []).append(name)
    for owner, names in by_owner.items():
        for at in range(0, len(names), NAMES_PER_QUERY):
            part = names[at : at + NAMES_PER_QUERY]
            rows = yield Query(
                "SELECT name, id FROM series WHERE org_id = ? AND kind = ? AND owner = ? "
                f"AND name IN ({', '.join('?' for _ in part)})",
                (org_id, kind, owner, *part),
            )
            for name, sid in rows:
                created[(org_id, kind, owner, name)] = sid
                found[(owner, name)] = sid


@dataclass(frozen=True)
class PointBatch:
    """One write_points call, so a backend can commit several in one statement."""

    org_id: str
    kind: OwnerKind
    points: Sequence[Point]
    now: int
    earliest: int
    """Points before this are dropped (`now - WRITE_WINDOW` unless replaying a backlog)."""
    max_series: int = DEFAULT_MAX_SERIES
    """The organisation's series limit: points of series beyond it are refused."""


def write_point_batches(
    batches: Sequence[PointBatch], cache: SeriesCache, created: SeriesIds, counts: SeriesCounts
) -> Step[list[WriteResult]]:
    """Writes several batches with one upsert per table; a later batch wins on a duplicate.
    Series it creates go into `created` (see `series_ids`)."""
    values: dict[tuple[int, int], float] = {}
    results: list[WriteResult] = []
    seen: dict[tuple[str, str], int] = {}  # (org, host) -> newest point time, capped at now
    for batch in batches:
        points, now = batch.points, batch.now
        low, high = batch.earliest, now + WRITE_WINDOW
        kept = [p for p in points if low <= p.time <= high]
        ids = yield from series_ids(
            batch.org_id,
            batch.kind,
            {(p.owner_id, p.name) for p in kept},
            cache,
            created,
            counts,
            batch.max_series,
        )
        newest: dict[str, int] = {}
        refused: list[int] = []
        for position, p in enumerate(points):
            if not low <= p.time <= high:
                continue
            sid = ids.get((p.owner_id, p.name))
            if sid is None:
                refused.append(position)
                continue
            at = int(p.time)
            values[sid, at] = float(p.value)
            if newest.get(p.owner_id, -1) < at:
                newest[p.owner_id] = at
        if batch.kind == "host":
            for host_id, at in newest.items():
                key, at = (batch.org_id, host_id), min(at, now)
                if seen.get(key, -1) < at:
                    seen[key] = at
        stored = len(kept) - len(refused)
        results.append(
            WriteResult(stored, len(points) - len(kept), tuple(refused), batch.max_series)
        )
    if not values:
        return results
    yield from _mark_hosts_seen(seen)
    rows = sorted((bucket_of(t), sid, t, value) for (sid, t), value in values.items())
    # The head's hour marks go first: sealing (seal.py) locks the marks of a window before
    # it reads and deletes the window's head rows, so a write racing it waits on the mark
    # and lands after the seal commits, in a fresh mark, to be sealed next time. A mark
    # that exists is only locked, not rewritten (no new row version per write). Taken in
    # the rows' order, the marks come in sorted runs, which `sorted` merges at little cost
    # (a set's order would need a full sort).
    marks = dict.fromkeys((t - t % HEAD_HOUR, sid) for _, sid, t, _ in rows)
    yield Upsert(
        "head_windows",
        ("hour", "series_id"),
        ("bigint", "bigint"),
        "(hour, series_id) DO UPDATE SET hour = excluded.hour WHERE false",
        sorted(marks),
    )
    yield Upsert(
        "points",
        ("bucket", "series_id", "ts", "value"),
        ("bigint", "bigint", "bigint", "float8"),
        "(bucket, series_id, ts) DO UPDATE SET value = excluded.value",
        rows,
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
    everything, params = buckets_with(0, END)
    yield Many(
        f"{everything}DELETE FROM points WHERE {IN_HEAD} AND series_id = ?",
        [(*params, sid) for sid in ids],
    )
    for table in SERIES_TABLES:
        yield Many(f"DELETE FROM {table} WHERE series_id = ?", [(sid,) for sid in ids])
    yield Many("DELETE FROM series WHERE id = ?", [(sid,) for sid in ids])
    return ids


def host_last_seen(org_id: str) -> Step[dict[str, int]]:
    """{host id: the time of its newest point, any metric} (kept by the point writes)."""
    rows = yield Query("SELECT host_id, seen_at FROM host_last_seen WHERE org_id = ?", (org_id,))
    return {row[0]: int(row[1]) for row in rows}
