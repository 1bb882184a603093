"""The series store: the one interface between the server and wherever time series live.

The metadata store (`store.Store`: organisations, keys, hosts, monitors, alerts …) and the
series store are separate, so series can live in another engine than metadata. A
`Store` always carries one as `store.series`; the API, the dashboard and the alert engine
reach series only through the verbs below, and a backend implements exactly these.
Backends: `sql_series.SQLSeriesStore` (SQLite or PostgreSQL, in the metadata database).
The shared conformance suite is `tests/server/store/test_series_*.py`, parametrised over
every backend listed in `tests/server/store/conftest.py`.

Shapes and units, for every verb:
- time is epoch seconds (int), values are floats; a point's time is kept as posted (not
  rounded to the minute);
- a series is (org_id, kind, owner, name): kind "host" with the host id as owner, or kind
  "service" with the service name as owner;
- writes are idempotent on (series, time): writing a time again replaces its value, so a
  retried batch never duplicates; a write returns only after its points are durable;
- reads of a span return one average per bucket of Mackerel's step for that span
  (`step_for_span`, spec/api.md §10): ≤ 20 h → 60 s, ≤ 240 h → 300 s, ≤ 240 d → 3600 s,
  else 86400 s; each average equals the mean of the raw points in the bucket.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from .figures import NO_FIGURES, StoreFigures
from .records import OwnerKind, Point, Retention, WriteResult

WRITE_WINDOW = 86400
"""Points further than this (seconds) from the write's `now` are dropped (Mackerel's ±24 h)."""

RAW_STEP = 60
ROLLUP_STEPS = (300, 3600, 86400)
"""The resolutions kept beside raw points; each is a whole number of the one before."""


def step_for_span(span: int) -> int:
    """The read granularity in seconds for a span of `span` seconds (spec/api.md §10)."""
    if span <= 20 * 3600:
        return 60
    if span <= 240 * 3600:
        return 300
    if span <= 240 * 86400:
        return 3600
    return 86400


def bucket_start(t: int, step: int) -> int:
    """The start of the `step`-second bucket holding time `t`."""
    return t - t % step


@dataclass(frozen=True)
class SeriesRead:
    """A read: the step used (seconds) and [(bucket start, average)] ascending.

    With step 60 the "bucket start" of a point is its minute."""

    step: int
    points: list[tuple[int, float]]


class SeriesStoreError(Exception):
    """A series engine outside the metadata database refused a request (a bug or one of
    its limits); the message names the request and the answer."""


class SeriesStoreUnavailable(SeriesStoreError):
    """The series engine is down, slow or overloaded. The API answers 503 with
    `Retry-After: retry_after` (an agent keeps the points in its spool and posts again);
    nothing the store acknowledged is lost."""

    retry_after = 10


class SeriesStore(ABC):
    """Time series of host and service metrics, every method a coroutine.

    A backend that shares the metadata database is opened and closed by its `Store`; one
    in another engine (e.g. VictoriaMetrics) is too: `Store.open` opens `store.series`
    after the metadata database, `Store.close` closes it first. Such a backend raises
    `SeriesStoreUnavailable` from any verb while its engine cannot answer in time.
    """

    description = "the metadata database"
    """Where the series live, for /healthz and logs."""

    async def ping(self) -> bool:
        """True when the series engine answers (/healthz). A backend in the metadata
        database answers when the database does, which `Store.ping` checks."""
        return True

    async def series_count(self) -> int | None:
        """How many series are stored (/metrics), or None where the engine cannot tell
        cheaply."""
        return None

    figures: StoreFigures = NO_FIGURES
    """Where the backend reports its upkeep (sealing) for /metrics; set by the app."""

    def queue_depths(self) -> dict[str, int]:
        """Work waiting in this process's queues of the backend, by queue name (/metrics)."""
        return {}

    @abstractmethod
    async def open(self) -> None:
        """Ready to serve (connections, background writers); the metadata store is open."""

    @abstractmethod
    async def close(self) -> None:
        """Waits for acknowledged writes, stops background work, releases connections."""

    retention: Retention = Retention()
    """How long each resolution is kept; a backend sets its own. A replayed backlog may
    write back to `retention.raw_1m`."""

    @abstractmethod
    async def write_points(
        self,
        org_id: str,
        kind: OwnerKind,
        points: Sequence[Point],
        now: int,
        *,
        earliest: int | None = None,
    ) -> WriteResult:
        """Stores `points` of `kind` series, idempotent on (series, time): a later write of
        the same time replaces the value (within one call, the last point wins).

        Points before `earliest` (default `now - WRITE_WINDOW`; earlier for a replayed
        backlog, whose buckets' rollups are then recomputed) or more than `WRITE_WINDOW`
        seconds after `now` are dropped and counted in `WriteResult.dropped_out_of_window`.
        The caller has validated names and values and that every host exists. Returns
        only after the points are committed (survive a kill -9 of the server); raises
        (and keeps none of the call's points) otherwise.
        For host series it also moves the host's last-seen time (`host_last_seen`).
        """

    @abstractmethod
    async def read_points(
        self, org_id: str, kind: OwnerKind, owner: str, name: str, frm: int, to: int
    ) -> SeriesRead | None:
        """Averages per bucket of `step_for_span(to - frm)` seconds, for buckets starting
        in [bucket_start(frm, step), to], ascending; empty buckets are absent.

        None when the series was never written (the API answers 404).
        """

    @abstractmethod
    async def latest_points(
        self, org_id: str, host_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, tuple[int, float] | None]]:
        """{host id: {name: (time, value) of the newest raw point, or None}} for every
        requested host and name (GET /api/v0/tsdb/latest, the dashboard's host list)."""

    @abstractmethod
    async def recent_points(
        self, org_id: str, kind: OwnerKind, names: Sequence[str], since: int, until: int,
        owners: Sequence[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[int, float]]]:  # fmt: skip
        """Raw points {(owner, name): [(time, value)] ascending} with time in [since,
        until], of every owner of `kind` (or only `owners`; `[]` gives {}), for `names`,
        where a name may hold `*` matching one dot-separated segment
        (`filesystem.*.used`). Series without points in the range are absent."""

    @abstractmethod
    async def host_last_seen(self, org_id: str) -> dict[str, int]:
        """{host id: the newest point time of any of its series, capped at the `now` of
        the write that brought it} (connectivity monitors)."""

    @abstractmethod
    async def metric_names(self, org_id: str, kind: OwnerKind, owner: str) -> list[str]:
        """Names of the owner's series, sorted; names of external HTTP monitors'
        response-time series (`__externalhttp.…`) are left out."""

    @abstractmethod
    async def delete_series(
        self, org_id: str, kind: OwnerKind, owner: str, names: Sequence[str] | None = None
    ) -> int:
        """Deletes the owner's series (all, or those in `names`) with every point and
        rollup; returns how many series were deleted. Reads then answer None."""

    @abstractmethod
    async def compact(self, now: int, stop: asyncio.Event | None = None) -> int:
        """Background upkeep up to `now`: rollups and whatever the backend seals or
        merges. Returns units of work done (0 when up to date). Works in short steps,
        each durable on its own, and returns early once `stop` is set."""

    @abstractmethod
    async def expire(self, now: int, stop: asyncio.Event | None = None) -> int:
        """Deletes data past its retention (`base.Retention`); returns how many rows or
        chunks went. Stepwise and stoppable like `compact`."""
