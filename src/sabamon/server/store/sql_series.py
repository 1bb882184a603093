"""The series store in the metadata database (SQLite or PostgreSQL), on its backend's
`read` / `write` (`backend.Backend`): each verb builds a step (`series.py` writes the head,
`series_read.py` reads head and chunks, `seal.py` compacts) and runs it in one read
snapshot or one committed write transaction.

Point writes go through `PointWriteQueue` (`coalesce.py`): concurrent batches share one
transaction, so commit cost is paid once per group.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from . import seal, series, series_read
from .coalesce import PointWriteQueue
from .ops import Step
from .records import OwnerKind, Point, Retention, WriteResult
from .series_store import WRITE_WINDOW, SeriesRead, SeriesStore

RunStep = Callable[[Step[Any]], Awaitable[Any]]

SEAL_CHUNK = 500
"""Series sealed per transaction: small enough not to stall ingest."""
EXPIRE_CHUNK = 500
"""Chunks downsampled, or chunks or rollup rows expired, per transaction."""
HEAD_TABLES = ("points", "head_windows")
"""The tables sealing deletes from."""
MAX_COALESCED_POINTS = 20_000
"""Most points one coalesced write transaction takes."""


def stopped(stop: asyncio.Event | None) -> bool:
    """Long maintenance stops between chunks (each one transaction) once `stop` is set."""
    return stop is not None and stop.is_set()


class SQLSeriesStore(SeriesStore):
    """Series in the tables `series`, `points` (the head), `head_windows`, `chunks`,
    `host_last_seen` of the database that `read` and `write` run steps on."""

    def __init__(
        self,
        read: RunStep,
        write: RunStep,
        retention: Retention,
        *,
        vacuum: Callable[[Sequence[str]], Awaitable[None]],
        flushers: int,
        max_series_per_org: int = series.DEFAULT_MAX_SERIES,
    ) -> None:
        self._read = read
        self.max_series_per_org = max_series_per_org
        """Series one organisation may have; points that would create more are refused."""
        self._write = write
        self._vacuum = vacuum
        self.retention = retention
        self.cache: series.SeriesCache = OrderedDict()
        """Series ids by (org, kind, owner, name); the backend clears it on a rollback."""
        self.counts = series.SeriesCounts()
        """Series per organisation, for the limit (see `series.SeriesCounts`)."""
        self.emptied_legacy: set[str] = set()
        """Rollup tables of the layout before chunks found empty (`series_read.table_sums`)."""
        self._point_writes = PointWriteQueue(
            write, self.cache, self.counts, flushers=flushers, max_points=MAX_COALESCED_POINTS
        )

    async def open(self) -> None:
        self._point_writes.start()

    async def close(self) -> None:
        await self._point_writes.stop()

    async def write_points(
        self,
        org_id: str,
        kind: OwnerKind,
        points: Sequence[Point],
        now: int,
        *,
        earliest: int | None = None,
    ) -> WriteResult:
        """Queued and committed together with the batches of concurrent callers."""
        low = now - WRITE_WINDOW if earliest is None else earliest
        return await self._point_writes.write(
            series.PointBatch(org_id, kind, points, now, low, self.max_series_per_org)
        )

    async def read_points(
        self, org_id: str, kind: OwnerKind, owner: str, name: str, frm: int, to: int
    ) -> SeriesRead | None:
        return await self._read(
            series_read.read_points(org_id, kind, owner, name, frm, to, self.emptied_legacy)
        )

    async def latest_points(
        self, org_id: str, host_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, tuple[int, float] | None]]:
        return await self._read(series_read.latest_points(org_id, host_ids, names))

    async def recent_points(
        self, org_id: str, kind: OwnerKind, names: Sequence[str], since: int, until: int,
        owners: Sequence[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[int, float]]]:  # fmt: skip
        return await self._read(
            series_read.recent_points(org_id, kind, names, since, until, owners)
        )

    async def host_last_seen(self, org_id: str) -> dict[str, int]:
        return await self._read(series.host_last_seen(org_id))

    async def series_count(self) -> int:
        return await self._read(series.series_count())

    def queue_depths(self) -> dict[str, int]:
        return {"point_writes": self._point_writes.waiting()}

    async def metric_names(self, org_id: str, kind: OwnerKind, owner: str) -> list[str]:
        return await self._read(series.metric_names(org_id, kind, owner))

    async def delete_series(
        self, org_id: str, kind: OwnerKind, owner: str, names: Sequence[str] | None = None
    ) -> int:
        ids = await self._write(series.delete_owner_series(org_id, kind, owner, self.cache, names))
        self.counts.forget(org_id)
        return len(ids)

    async def compact(self, now: int, stop: asyncio.Event | None = None) -> int:
        """Seals every window due (each head mark once: see `seal.SealCursor`), then turns
        raw chunks past their retention into rollup chunks; returns points sealed plus
        chunks downsampled."""
        done = 0
        cursor = seal.SealCursor()
        while not stopped(stop):
            started = time.perf_counter()
            sealed = await self._write(seal.seal_due(now, SEAL_CHUNK, cursor))
            if sealed is None:
                break
            self.figures.sealed(time.perf_counter() - started, *sealed)
            done += sealed.points
        if done:
            # a read over the sealed windows would otherwise walk the deleted head rows'
            # index entries until autovacuum comes (PostgreSQL)
            await self._vacuum(HEAD_TABLES)
        more = True
        while more and not stopped(stop):
            chunks = await self._write(seal.downsample_chunk(now, self.retention, EXPIRE_CHUNK))
            done += chunks
            more = chunks == EXPIRE_CHUNK
        return done

    async def expire(self, now: int, stop: asyncio.Event | None = None) -> int:
        """Deletes rollup chunks past their retention, and rows of the rollup tables (the
        layout before chunks) past theirs."""
        deleted, chunk = 0, EXPIRE_CHUNK
        while chunk == EXPIRE_CHUNK and not stopped(stop):
            chunk = await self._write(seal.expire_rollup_chunk(now, self.retention, EXPIRE_CHUNK))
            deleted += chunk
        cutoffs = seal.legacy_cutoffs(now, self.retention)
        for table in seal.LEGACY_TABLES:
            chunk = EXPIRE_CHUNK
            while chunk == EXPIRE_CHUNK and not stopped(stop):
                chunk = await self._write(
                    seal.expire_table_chunk(table, cutoffs[table], EXPIRE_CHUNK)
                )
                deleted += chunk
        return deleted
