"""Runs the engine each minute and the delivery worker after it, off the request path.

Minute M is evaluated once the clock passes M + 60 s + `grace` (the agents post a minute's
points within it); the delivery worker is woken right after, so a notification leaves
about `grace` seconds after the minute of the crossing point ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sabamon.server.alerts.engine import Engine
from sabamon.server.notify.delivery import DeliveryWorker

log = logging.getLogger(__name__)

GRACE = 30.0


def ready_minute(now: float, grace: float) -> int:
    """The newest minute whose data has had `grace` seconds to arrive."""
    return int((now - 60 - grace) // 60 * 60)


async def run_alerting(
    engine: Engine,
    worker: DeliveryWorker,
    stop: asyncio.Event,
    *,
    grace: float = GRACE,
    poll_interval: float = 1.0,
) -> None:
    """Evaluates each ready minute (never backfilling missed ones) until `stop`."""
    while not stop.is_set():
        minute = ready_minute(engine.clock(), grace)
        if minute > engine.evaluated_through:
            try:
                await engine.evaluate_minute(minute)
            except Exception as exc:
                engine.evaluated_through = minute  # do not retry a failing minute in a loop
                log.error("event=alerts_cycle_failed minute=%d error=%r", minute, exc)
            worker.wake.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll_interval)
