"""Runs the engine each minute and the delivery worker after it, off the request path.

Minute M is evaluated once the clock passes M + 60 s + `grace` (the agents post a minute's
points within it); the delivery worker is woken right after, so a notification leaves
about `grace` seconds after the minute of the crossing point ends.

Check reports do not wait for the minute: the report route announces them on the topic
`CHECK_REPORTS` (to every cluster member), and the loop wakes and runs the engine's check
pass at once, so a check's alert opens or closes within about a second of its report.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from sabamon.server.alerts.engine import Engine
from sabamon.server.notify.delivery import DeliveryWorker
from sabamon.server.notify.email import SmtpSettings
from sabamon.server.outbound import OutboundPolicy
from sabamon.server.store import Store
from sabamon.server.telemetry import Telemetry

log = logging.getLogger(__name__)

GRACE = 30.0
CHECK_REPORTS = "check-reports"
"""The coordinator topic the report route announces and the alerting loop listens to."""
CHECK_PASS_SPACING = 0.5
"""Real seconds between two check passes: a pass reads every check's state, so the reports
of a busy fleet (a few hundred a second) share passes rather than run one each."""


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
    reported: Callable[[], asyncio.Event] | None = None,
) -> None:
    """Evaluates each ready minute (never backfilling missed ones) until `stop`; with
    `reported` (the event the next check report sets), runs the check pass on each report.
    """
    report: asyncio.Event | None = None
    loop = asyncio.get_running_loop()
    last_pass = -CHECK_PASS_SPACING
    while not stop.is_set():
        fired = report is not None and report.is_set()
        if fired:  # reports arriving meanwhile share this pass
            await _wait_any(stop, None, last_pass + CHECK_PASS_SPACING - loop.time())
        report = reported() if reported is not None else None  # taken before the work
        if fired:
            last_pass = loop.time()
            await _check_pass(engine, worker)
        minute = ready_minute(engine.clock(), grace)
        if minute > engine.evaluated_through:
            try:
                await engine.evaluate_minute(minute)
            except Exception as exc:
                engine.evaluated_through = minute  # do not retry a failing minute in a loop
                log.error("event=alerts_cycle_failed minute=%d error=%r", minute, exc)
            worker.wake.set()
        await _wait_any(stop, report, poll_interval)


async def _check_pass(engine: Engine, worker: DeliveryWorker) -> None:
    try:
        if await engine.evaluate_checks():
            worker.wake.set()
    except Exception as exc:
        log.error("event=checks_pass_failed error=%r", exc)


async def _wait_any(stop: asyncio.Event, report: asyncio.Event | None, timeout: float) -> None:
    """Until `stop` or `report` is set, or `timeout` seconds."""
    if timeout <= 0:
        return
    waits = [asyncio.ensure_future(stop.wait())]
    if report is not None:
        waits.append(asyncio.ensure_future(report.wait()))
    try:
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in waits:
            task.cancel()


@dataclass(frozen=True)
class AlertingOptions:
    org_name: str = "default"
    base_url: str = "http://127.0.0.1:8080"  # for links in notifications
    graph_images: bool = False
    """Publish notifications' graph images under `base_url`: a --public-url was given."""
    grace: float = GRACE
    poll_interval: float = 1.0
    delivery_poll_interval: float = 5.0
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    """Networks webhooks, Slack channels and external monitors may connect to."""


async def run_alerting_service(
    store: Store,
    clock: Callable[[], float],
    options: AlertingOptions,
    stop: asyncio.Event,
    owns: Callable[[str], bool] = lambda monitor_id: True,
    reported: Callable[[], asyncio.Event] | None = None,
    telemetry: Telemetry | None = None,
) -> None:
    """The engine and the delivery worker, until `stop` (the app's lifespan runs this);
    `reported` gives the event the next check report sets (see `run_alerting`);
    deliveries are counted in `telemetry`."""
    org, _ = await store.ensure_org(options.org_name)
    engine = Engine(
        store, org, clock=clock, base_url=options.base_url, graph_images=options.graph_images,
        owns=owns, outbound=options.outbound,
    )  # fmt: skip
    worker = DeliveryWorker(
        store, clock, options.smtp, telemetry=telemetry, outbound=options.outbound
    )
    worker_stop = asyncio.Event()
    delivering = asyncio.create_task(worker.run(worker_stop, options.delivery_poll_interval))
    try:
        await run_alerting(
            engine,
            worker,
            stop,
            grace=options.grace,
            poll_interval=options.poll_interval,
            reported=reported,
        )
    finally:
        worker_stop.set()
        worker.wake.set()
        await delivering
