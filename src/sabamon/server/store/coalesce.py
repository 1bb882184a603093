"""Coalescing of concurrent point writes into shared transactions (group commit).

Callers queue their batch and wait; a few flusher tasks each take every batch waiting (up
to `max_points`), write them with one upsert per table in one transaction, and resolve each
caller's future only after COMMIT. Under load this turns hundreds of small transactions
into a few large ones; when idle a batch is flushed at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from .base import WriteResult
from .ops import Step
from .series import PointBatch, SeriesCache, write_point_batches

RunWrite = Callable[[Step[list[WriteResult]]], Awaitable[list[WriteResult]]]
_Pending = tuple[PointBatch, "asyncio.Future[WriteResult]"]


class PointWriteQueue:
    def __init__(
        self, run_write: RunWrite, cache: SeriesCache, *, flushers: int, max_points: int
    ) -> None:
        self._run_write = run_write
        self._cache = cache
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
                results = await self._run_write(
                    write_point_batches([batch for batch, _ in group], self._cache)
                )
            except Exception as error:
                for _, future in group:
                    if not future.done():
                        future.set_exception(error)
            else:
                for (_, future), result in zip(group, results, strict=True):
                    if not future.done():
                        future.set_result(result)
