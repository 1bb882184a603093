"""The VictoriaMetrics series store: time series in a single node or a cluster.

Writes go to the Prometheus text import (`labels.py` gives the mapping), concurrent ones
in shared requests (`group_import.py`); a write returns once VictoriaMetrics answered 2xx
to the request holding its lines. Reads of a span ask `query_range` for
`avg_over_time(series[step] offset -(step-1)s)` at each bucket start `b`: the window
`(b + step - 1 - step, b + step - 1]` in seconds holds exactly the samples stored for the
seconds `[b, b + step)` (a sample of second `t` is stored in `((t-1) s, t s]`), so every
average equals the SQL backends' mean of the same raw points. Raw reads (`recent_points`)
use `/api/v1/export`.

Instant reads (latest values, last seen) look back `LOOKBACK` seconds from the injected
clock, plus `WRITE_WINDOW` ahead (points may be posted up to 24 h in the future); a
(host, name) not found there is looked for once more over the whole retention.

Rollups and retention are VictoriaMetrics' own (`-retentionPeriod`); `compact` and
`expire` have nothing to do. VictoriaMetrics keeps about 12 significant decimal digits of
a value (its decimal encoding per block), so averages equal the SQL backends' to ~1e-12.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence

from sabamon.server.store.records import OwnerKind, Point, WriteResult
from sabamon.server.store.series_store import (
    WRITE_WINDOW,
    SeriesRead,
    SeriesStore,
    SeriesStoreError,
    bucket_start,
    step_for_span,
)
from sabamon.server.victoria.client import ClientLimits, VictoriaClient
from sabamon.server.victoria.endpoints import Endpoints
from sabamon.server.victoria.group_import import GroupImport
from sabamon.server.victoria.labels import (
    OWNER_LABEL,
    encode_points,
    point_second,
    selector,
)

log = logging.getLogger(__name__)

LOOKBACK = 2 * 86400
"""Seconds an instant read (latest value, last seen) looks back from the clock first."""
FULL_LOOKBACK = 100 * 365 * 86400
"""The second look for a latest value: any retention VictoriaMetrics may have."""
LAST_SEEN = "sabamon_last_seen"
"""A series per host, `{__name__="sabamon_last_seen", org, seen_host}`: one sample a write
whose time and value are the write's newest point time capped at its `now`."""
SEEN_LABEL = "seen_host"
EXTERNAL_PREFIX = "__externalhttp."
REQUIRED_FLAGS = {"dedup.minScrapeInterval": "1s"}
"""VictoriaMetrics flags sabamon's series need (README "Series in VictoriaMetrics")."""


def last_seen_points(points: Iterable[Point], now: int) -> list[Point]:
    """One `LAST_SEEN` point a host: its newest point time capped at `now`, as time and value."""
    newest: dict[str, int] = {}
    for point in points:
        at = min(int(point.time), now)
        if newest.get(point.owner_id, -1) < at:
            newest[point.owner_id] = at
    return [Point(host, LAST_SEEN, at, float(at)) for host, at in newest.items()]


class VictoriaSeriesStore(SeriesStore):
    """Series in VictoriaMetrics at `endpoints`; `clock` gives epoch seconds."""

    def __init__(
        self,
        endpoints: Endpoints,
        *,
        clock: Callable[[], float] = time.time,
        limits: ClientLimits | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.description = endpoints.description
        self.clock = clock
        self.limits = limits or ClientLimits()
        self._client: VictoriaClient | None = None
        self._imports: GroupImport | None = None
        self._check: asyncio.Task[list[str]] | None = None

    @property
    def client(self) -> VictoriaClient:
        if self._client is None:
            raise RuntimeError("the VictoriaMetrics series store is not open")
        return self._client

    async def open(self) -> None:
        self._client = VictoriaClient(self.endpoints, self.limits)
        self._imports = GroupImport(self._client.import_prometheus)
        self._imports.start()
        self._check = asyncio.create_task(self.check_settings(), name="victoria-settings")
        log.info("event=series_store_open store=%r", self.endpoints.description)

    async def check_settings(self) -> list[str]:
        """Logs a warning for each VictoriaMetrics setting that breaks sabamon's reads and
        returns them: without one-second deduplication a retried batch is stored twice
        and averaged twice. An unreachable VictoriaMetrics is left to /healthz."""
        try:
            flags = await self.client.flags()
        except SeriesStoreError as error:
            log.info("event=series_store_settings_unchecked error=%r", str(error))
            return []
        wrong = []
        for name, want in REQUIRED_FLAGS.items():
            if flags.get(name) != want:
                wrong.append(f"-{name}={flags.get(name, '')!r} (want {want})")
                log.warning(
                    "event=series_store_setting store=%r flag=%s value=%r want=%s",
                    self.endpoints.description,
                    name,
                    flags.get(name, ""),
                    want,
                )
        return wrong

    async def close(self) -> None:
        if self._check is not None:
            self._check.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._check
            self._check = None
        if self._imports is not None:
            await self._imports.stop()
            self._imports = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def ping(self) -> bool:
        """True when every VictoriaMetrics component answers /health."""
        return await self.client.healthy()

    def _horizon(self) -> int:
        """The end of "all time" for index searches, which start at 1 (a start of 0 reads
        as none given: the last day): past any point a write may bring (VictoriaMetrics
        answers nothing for an end decades ahead)."""
        return int(self.clock()) + LOOKBACK + WRITE_WINDOW

    # writes ---------------------------------------------------------------------------
    async def write_points(
        self,
        org_id: str,
        kind: OwnerKind,
        points: Sequence[Point],
        now: int,
        *,
        earliest: int | None = None,
    ) -> WriteResult:
        low = now - WRITE_WINDOW if earliest is None else earliest
        high = now + WRITE_WINDOW
        kept: dict[tuple[str, str, int], Point] = {}
        for point in points:
            if low <= point.time <= high:
                kept[(point.owner_id, point.name, int(point.time))] = point  # last one wins
        if not kept:
            return WriteResult(0, len(points))
        body = encode_points(org_id, OWNER_LABEL[kind], kept.values(), now)
        if kind == "host":
            body += encode_points(org_id, SEEN_LABEL, last_seen_points(kept.values(), now), now)
        if self._imports is None:
            raise RuntimeError("the VictoriaMetrics series store is not open")
        await self._imports.write(body)
        in_window = sum(1 for p in points if low <= p.time <= high)
        return WriteResult(in_window, len(points) - in_window)

    # reads ------------------------------------------------------------------------------
    async def read_points(
        self, org_id: str, kind: OwnerKind, owner: str, name: str, frm: int, to: int
    ) -> SeriesRead | None:
        step = step_for_span(to - frm)
        series = selector(org_id, kind, [name], [owner])
        query = f"avg_over_time({series}[{step}s] offset -{step - 1}s)"
        result = await self.client.query_range(
            query, bucket_start(frm, step), bucket_start(to, step), step
        )
        if not result:
            if not await self.client.series(series, 1, self._horizon()):
                return None
            return SeriesRead(step, [])
        values = result[0].get("values", [])
        return SeriesRead(step, [(int(at), float(value)) for at, value in values])

    async def latest_points(
        self, org_id: str, host_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, tuple[int, float] | None]]:
        found: dict[str, dict[str, tuple[int, float] | None]] = {
            host: dict.fromkeys(names) for host in host_ids
        }
        if not host_ids or not names:
            return found
        at = int(self.clock()) + WRITE_WINDOW
        for name in dict.fromkeys(names):
            latest = await self._latest(org_id, host_ids, name, at, LOOKBACK + WRITE_WINDOW)
            missing = [host for host in host_ids if host not in latest]
            if missing:
                latest.update(await self._latest(org_id, missing, name, at, FULL_LOOKBACK))
            for host, point in latest.items():
                found[host][name] = point
        return found

    async def _latest(
        self, org_id: str, hosts: Sequence[str], name: str, at: int, window: int
    ) -> dict[str, tuple[int, float]]:
        """{host: (time, value)} of the newest sample in (at - window, at]."""
        series = selector(org_id, "host", [name], hosts)
        times, values = await asyncio.gather(
            self.client.query(f"tlast_over_time({series}[{window}s])", at),
            self.client.query(f"last_over_time({series}[{window}s])", at),
        )
        stamp = {r["metric"].get("host"): float(r["value"][1]) for r in times}
        latest = {}
        for row in values:
            host = row["metric"].get("host")
            if host in stamp:
                latest[host] = (point_second(round(stamp[host] * 1000)), float(row["value"][1]))
        return latest

    async def recent_points(
        self, org_id: str, kind: OwnerKind, names: Sequence[str], since: int, until: int,
        owners: Sequence[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[int, float]]]:  # fmt: skip
        if not names or owners == []:
            return {}
        series = selector(org_id, kind, sorted(set(names)), sorted(set(owners or ())))
        rows = await self.client.export(series, since - 1 + 0.001, until)
        owner_label = OWNER_LABEL[kind]
        out: dict[tuple[str, str], list[tuple[int, float]]] = {}
        for row in rows:
            labels = row["metric"]
            points = [
                (point_second(ms), float(value))
                for ms, value in zip(row["timestamps"], row["values"], strict=True)
            ]
            points = [(at, value) for at, value in points if since <= at <= until]
            if points:
                out[(labels[owner_label], labels["__name__"])] = sorted(points)
        return out

    async def host_last_seen(self, org_id: str) -> dict[str, int]:
        """The biggest `LAST_SEEN` value per host over `LOOKBACK` (and `WRITE_WINDOW` ahead),
        read hour by hour through VictoriaMetrics' response cache: each minute's
        connectivity check then scans about the last hour of every host, not three days."""
        series = f'{{__name__="{LAST_SEEN}",org="{org_id}"}}'
        end = bucket_start(int(self.clock()) + WRITE_WINDOW, 3600) + 3600
        rows = await self.client.query_range(
            f"max_over_time({series}[3600s] offset -3599s)",
            end - LOOKBACK - WRITE_WINDOW,
            end,
            3600,
            cache=True,
        )
        return {
            row["metric"][SEEN_LABEL]: int(max(float(value) for _, value in row["values"]))
            for row in rows
            if row.get("values")
        }

    async def metric_names(self, org_id: str, kind: OwnerKind, owner: str) -> list[str]:
        """From the series API: VictoriaMetrics 1.79's label-values API still lists the
        names of deleted series."""
        found = await self.client.series(selector(org_id, kind, owners=[owner]), 1, self._horizon())
        names = {labels["__name__"] for labels in found}
        return sorted(name for name in names if not name.startswith(EXTERNAL_PREFIX))

    # upkeep -----------------------------------------------------------------------------
    async def delete_series(
        self, org_id: str, kind: OwnerKind, owner: str, names: Sequence[str] | None = None
    ) -> int:
        if names is not None and not names:
            return 0
        series = selector(org_id, kind, sorted(set(names or ())), [owner])
        found = await self.client.series(series, 1, self._horizon())
        if found:
            await self.client.delete_series(series)
        return len(found)

    async def compact(self, now: int, stop: asyncio.Event | None = None) -> int:
        """Nothing to do: VictoriaMetrics merges and downsamples on its own."""
        return 0

    async def expire(self, now: int, stop: asyncio.Event | None = None) -> int:
        """Nothing to do: VictoriaMetrics' `-retentionPeriod` deletes old data."""
        return 0
