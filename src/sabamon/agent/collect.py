"""The collection side of the loop: a ticker on the minute and the collector that runs every
generator in parallel, merges values per custom identifier and spools the batch."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from sabamon.agent.loop import Clock, LoopTimings
from sabamon.agent.metrics.base import MetricGenerator, Value
from sabamon.agent.spool import BatchKind, Spool

log = logging.getLogger(__name__)

HostIdFor = Callable[[str | None], str | None]


class Collector:
    """Runs all generators for one tick and returns the tsdb values, `{"hostId", "name",
    "time", "value"}`, for the hosts it can resolve (`host_id_for(None)` is this host)."""

    def __init__(
        self,
        generators: Sequence[MetricGenerator],
        host_id_for: HostIdFor,
        timings: LoopTimings,
        stop: threading.Event,
    ) -> None:
        self.generators = list(generators)
        self.host_id_for = host_id_for
        self.timings = timings
        self.stop = stop
        workers = max(1, len(self.generators) * timings.max_concurrent_collections)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="generator")

    def collect(self, tick_time: int) -> list[dict[str, Any]]:
        futures = {
            self._pool.submit(g.generate, self.timings.delta_interval, self.stop): g
            for g in self.generators
        }
        _done, pending = wait(futures, timeout=self.timings.slow_collection_warning)
        for future in pending:
            log.warning(
                "event=generator_slow generator=%s seconds=%.0f",
                futures[future].name,
                self.timings.slow_collection_warning,
            )
        wait(pending)
        values: list[dict[str, Any]] = []
        for future, generator in futures.items():
            try:
                produced = future.result()
            except Exception as err:
                log.error("event=generator_failed generator=%s error=%r", generator.name, err)
                continue
            values += self._tsdb_values(generator, produced, tick_time)
        return values

    def _tsdb_values(
        self, generator: MetricGenerator, produced: list[Value], tick_time: int
    ) -> list[dict[str, Any]]:
        host_id = self.host_id_for(generator.custom_identifier)
        if host_id is None:
            return []
        values = []
        for value in produced:
            if math.isnan(value.value) or math.isinf(value.value):
                log.warning("event=value_dropped name=%s value=%s", value.name, value.value)
                continue
            point_time = value.time if value.time is not None else tick_time
            values.append(
                {"hostId": host_id, "name": value.name, "time": point_time, "value": value.value}
            )
        return values

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class Ticker:
    """Fires once at start and then at each minute boundary (`post_interval`), running at most
    `max_concurrent_collections` collections at once; a tick finding all busy is dropped."""

    def __init__(
        self,
        collector: Collector,
        spool: Spool,
        timings: LoopTimings,
        stop: threading.Event,
        clock: Clock = time.time,
    ) -> None:
        self.collector = collector
        self.spool = spool
        self.timings = timings
        self.stop = stop
        self.clock = clock
        self._slots = threading.BoundedSemaphore(timings.max_concurrent_collections)

    def run(self) -> None:
        period = self.timings.post_interval
        last_minute: float | None = None
        while not self.stop.is_set():
            now = self.clock()
            minute = now - now % period
            if minute != last_minute:
                last_minute = minute
                self._fire(int(minute))
            self.stop.wait(min(self.timings.tick_resolution, period - now % period))

    def _fire(self, tick_time: int) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("event=tick_dropped time=%d reason=all_collections_busy", tick_time)
            return
        threading.Thread(
            target=self._collect, args=(tick_time,), name=f"collect-{tick_time}", daemon=True
        ).start()

    def _collect(self, tick_time: int) -> None:
        try:
            values = self.collector.collect(tick_time)
            if values and not self.stop.is_set():
                self.spool.append(BatchKind.METRICS, values)
        except Exception:
            log.exception("event=collection_failed time=%d", tick_time)
        finally:
            self._slots.release()
