"""The series store in the metadata database (SQLite or PostgreSQL), on its backend's
`_read` / `_write` primitives: each verb builds a step (`series.py`, `rollup.py`,
`retention.py`) and runs it in one read snapshot or one committed write transaction.

Point writes go through `PointWriteQueue` (`coalesce.py`): concurrent batches share one
transaction, so commit cost is paid once per group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from . import retention, rollup, series
from .base import OwnerKind, Point, Retention, WriteResult
from .coalesce import PointWriteQueue
from .ops import Step
from .series_store import WRITE_WINDOW, SeriesRead, SeriesStore

RunStep = Callable[[Step[Any]], Awaitable[Any]]

ROLLUP_CHUNK = 2000
"""Dirty buckets rolled per transaction: small enough not to stall ingest."""
EXPIRE_CHUNK = 500
"""Series (hourly tables) or rows (daily rollups) expired per transaction."""
MAX_COALESCED_POINTS = 20_000
"""Most points one coalesced write transaction takes."""


def stopped(stop: asyncio.Event | None) -> bool:
    """Long maintenance stops between chunks (each one transaction) once `stop` is set."""
    return stop is not None and stop.is_set()


class SQLSeriesStore(SeriesStore):
    """Series in the tables `series`, `points`, `rollup_*`, `dirty_buckets`,
    `host_last_seen` of the database that `read` and `write` run steps on."""

    def __init__(
        self, read: RunStep, write: RunStep, retention: Retention, *, flushers: int
    ) -> None:
        self._read = read
        self._write = write
        self.retention = retention
        self.cache: series.SeriesCache = {}
        """Series ids by (org, kind, owner, name); the backend clears it on a rollback."""
        self._point_writes = PointWriteQueue(
            write, self.cache, flushers=flushers, max_points=MAX_COALESCED_POINTS
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
        return await self._point_writes.write(series.PointBatch(org_id, kind, points, now, low))

    async def read_points(
        self, org_id: str, kind: OwnerKind, owner: str, name: str, frm: int, to: int
    ) -> SeriesRead | None:
        return await self._read(series.read_points(org_id, kind, owner, name, frm, to))

    async def latest_points(
        self, org_id: str, host_ids: Sequence[str], names: Sequence[str]
    ) -> dict[str, dict[str, tuple[int, float] | None]]:
        return await self._read(series.latest_points(org_id, host_ids, names))

    async def recent_points(
        self, org_id: str, kind: OwnerKind, names: Sequence[str], since: int, until: int,
        owners: Sequence[str] | None = None,
    ) -> dict[tuple[str, str], list[tuple[int, float]]]:  # fmt: skip
        return await self._read(series.recent_points(org_id, kind, names, since, until, owners))

    async def host_last_seen(self, org_id: str) -> dict[str, int]:
        return await self._read(series.host_last_seen(org_id))

    async def series_count(self) -> int:
        return await self._read(series.series_count())

    async def metric_names(self, org_id: str, kind: OwnerKind, owner: str) -> list[str]:
        return await self._read(series.metric_names(org_id, kind, owner))

    async def delete_series(
        self, org_id: str, kind: OwnerKind, owner: str, names: Sequence[str] | None = None
    ) -> int:
        ids = await self._write(series.delete_owner_series(org_id, kind, owner, self.cache, names))
        return len(ids)

    async def compact(self, now: int, stop: asyncio.Event | None = None) -> int:
        written = 0
        while not stopped(stop) and (
            chunk := await self._write(rollup.rollup_chunk(now, ROLLUP_CHUNK))
        ):
            written += chunk
        return written

    async def expire(self, now: int, stop: asyncio.Event | None = None) -> int:
        deleted = 0
        cutoffs = retention.cutoffs(now, self.retention)
        for table in retention.HOURLY_TABLES:
            more = True
            while more and not stopped(stop):
                chunk, more = await self._write(
                    retention.expire_hour_chunk(table, cutoffs[table], EXPIRE_CHUNK)
                )
                deleted += chunk
        for table in ("rollup_3600", "rollup_86400"):
            chunk = EXPIRE_CHUNK
            while chunk == EXPIRE_CHUNK and not stopped(stop):
                chunk = await self._write(
                    retention.expire_bucket_chunk(table, cutoffs[table], EXPIRE_CHUNK)
                )
                deleted += chunk
        return deleted
