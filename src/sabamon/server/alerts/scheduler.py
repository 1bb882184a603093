"""Runs the engine each minute and the delivery worker after it, off the request path.

Minute M is evaluated once the clock passes M + 60 s + `grace` (the agents post a minute's
points within it); the delivery worker is woken right after, so a notification leaves
about `grace` seconds after the minute of the crossing point ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sabamon.server.alerts.engine import Engine
from sabamon.server.notify.delivery import DeliveryWorker
from sabamon.server.notify.email import SmtpSettings
from sabamon.server.store.base import Store

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


@dataclass(frozen=True)
class AlertingOptions:
    org_name: str = "default"
    base_url: str = "http://127.0.0.1:8080"  # for links in notifications
    grace: float = GRACE
    poll_interval: float = 1.0
    delivery_poll_interval: float = 5.0
    smtp: SmtpSettings = field(default_factory=SmtpSettings)


async def run_alerting_service(
    store: Store,
    clock: Callable[[], float],
    options: AlertingOptions,
    stop: asyncio.Event,
    owns: Callable[[str], bool] = lambda monitor_id: True,
) -> None:
    """The engine and the delivery worker, until `stop` (the app's lifespan runs this)."""
    org, _ = await store.ensure_org(options.org_name)
    engine = Engine(store, org, clock=clock, base_url=options.base_url, owns=owns)
    worker = DeliveryWorker(store, clock, options.smtp)
    worker_stop = asyncio.Event()
    delivering = asyncio.create_task(worker.run(worker_stop, options.delivery_poll_interval))
    try:
        await run_alerting(
            engine, worker, stop, grace=options.grace, poll_interval=options.poll_interval
        )
    finally:
        worker_stop.set()
        worker.wake.set()
        await delivering
