"""The maintenance process: `python -m sabamon.server.maintainer PID`, started by the
`sabamon server` of pid PID with its settings in the environment (`ServerSettings.export`).

Runs `app.run_maintenance` every minute (of the server's clock) until TERM or INT, or until
its parent is no longer PID (the server is gone: a server killed with KILL cannot stop it;
PID comes from the server, as the server may be gone before this process could ask).
Its figures (maintenance and sealing times, points sealed) go to the workers' /metrics
through prometheus_client's multiprocess folder. Exit status 0 when stopped, 1 when the
store could not be opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys

from sabamon.logfmt import setup_logging
from sabamon.server import gc_settings
from sabamon.server.app import MAINTENANCE_INTERVAL, run_maintenance
from sabamon.server.cli import settings_store
from sabamon.server.settings import ServerSettings
from sabamon.server.telemetry import Telemetry, process_exited

log = logging.getLogger("sabamon.server.maintainer")

PARENT_CHECK_SECONDS = 1.0
"""How often the process looks whether the server that started it is still there."""


async def watch_parent(
    parent: int, stop: asyncio.Event, every: float = PARENT_CHECK_SECONDS
) -> None:
    """Sets `stop` once this process's parent is no longer `parent` (it died: reparented)."""
    while not stop.is_set():
        if os.getppid() != parent:
            log.warning("event=maintainer_orphaned parent=%d", parent)
            stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


async def maintain(settings: ServerSettings, parent: int) -> int:
    """Runs maintenance until stopped; the exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher = asyncio.create_task(watch_parent(parent, stop), name="parent-watch")
    clock = settings.time_base.clock
    store = settings_store(settings, clock)
    try:
        await store.open()
    except Exception as exc:  # the database is down or refuses us: the supervisor retries
        log.error("event=maintainer_store_failed error=%r", exc)
        stop.set()
        await watcher
        return 1
    # only now: in multiprocess mode each figure is a file named by this pid, which every
    # /metrics scrape reads, and a start that failed would leave them behind (one a minute
    # for as long as the database is down)
    telemetry = Telemetry()
    store.series.figures = telemetry
    gc_settings.settle()
    log.info("event=maintainer_started pid=%d", os.getpid())
    try:
        interval = settings.time_base.seconds(MAINTENANCE_INTERVAL)
        await run_maintenance(store, clock, interval, stop, None, telemetry)
    finally:
        stop.set()
        await watcher
        await store.close()
        process_exited()
        log.info("event=maintainer_stopped pid=%d", os.getpid())
    return 0


def main(argv: list[str]) -> int:
    """`argv`: the server's pid."""
    settings = ServerSettings.from_environment(os.environ)
    setup_logging(settings.log_level.upper())
    return asyncio.run(maintain(settings, int(argv[0])))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
