"""Coalescing of concurrent point writes into shared transactions (group commit).

Callers queue their batch and wait; a few flusher tasks each take every batch waiting (up
to `max_points`), write them with one upsert per table in one transaction, and resolve each
caller's future only after COMMIT. Under load this turns hundreds of small transactions
into a few large ones; when idle a batch is flushed at once.

Series ids created by a write are remembered only once it has committed: a rolled-back
transaction must not leave ids in the cache that name no row. When a shared transaction
fails, each of its batches is written again on its own, so one bad batch fails alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Sequence

from .ops import Step
from .records import WriteResult
from .series import PointBatch, SeriesCache, SeriesCounts, SeriesIds, write_point_batches

MAX_CACHED_SERIES = 200_000
"""Series ids one worker remembers (about 280 bytes each, 56 MB). Past it the least
recently written are forgotten and looked up again when next written: a burst of new
metric names costs lookups, not memory that grows with the names."""

RunWrite = Callable[[Step[list[WriteResult]]], Awaitable[list[WriteResult]]]
_Pending = tuple[PointBatch, "asyncio.Future[WriteResult]"]


class PointWriteQueue:
    def __init__(
        self,
        run_write: RunWrite,
        cache: SeriesCache,
        counts: SeriesCounts,
        *,
        flushers: int,
        max_points: int,
        max_cached: int = MAX_CACHED_SERIES,
    ) -> None:
        self._run_write = run_write
        self._cache = cache
        self._counts = counts
        self._max_cached = max_cached
        self._flusher_count = flushers
        self._max_points = max_points
        self._pending: asyncio.Queue[_Pending] = asyncio.Queue()
        self._flushers: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._flushers = [
            asyncio.create_task(self._flush_loop(), name=f"point-flusher-{i}")
            for i in range(self._flusher_count)
        ]

    async def stop(self) -> None:
        for task in self._flushers:
            task.cancel()
        for task in self._flushers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._flushers = []

    def waiting(self) -> int:
        """Batches queued that no flusher has taken yet."""
        return self._pending.qsize()

    async def write(self, batch: PointBatch) -> WriteResult:
        if not self._flushers:
            raise RuntimeError("the point write queue is not running")
        future: asyncio.Future[WriteResult] = asyncio.get_running_loop().create_future()
        self._pending.put_nowait((batch, future))
        return await future

    async def _flush_loop(self) -> None:
        while True:
            group = [await self._pending.get()]
            points = len(group[0][0].points)
            while points < self._max_points and not self._pending.empty():
                group.append(self._pending.get_nowait())
                points += len(group[-1][0].points)
            try:
                results = await self._commit([batch for batch, _ in group])
            except Exception as error:
                if len(group) == 1:
                    settle(group[0][1], error)
                    continue
                for batch, future in group:
                    try:
                        [result] = await self._commit([batch])
                    except Exception as alone:
                        settle(future, alone)
                    else:
                        settle(future, result)
            else:
                for (_, future), result in zip(group, results, strict=True):
                    settle(future, result)

    async def _commit(self, batches: Sequence[PointBatch]) -> list[WriteResult]:
        created: SeriesIds = {}
        results = await self._run_write(
            write_point_batches(batches, self._cache, created, self._counts)
        )
        cache = self._cache
        if len(created) >= self._max_cached:  # one group naming more series than that
            cache.clear()
            created = dict(itertools.islice(created.items(), self._max_cached))
        else:
            while len(cache) + len(created) > self._max_cached:
                cache.popitem(last=False)
        cache.update(created)
        return results


def settle(future: asyncio.Future[WriteResult], outcome: WriteResult | Exception) -> None:
    if future.done():
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
