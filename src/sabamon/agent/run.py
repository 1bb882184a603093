"""`sabamon agent`: wire the parts together and run until INT/TERM/QUIT (spec/agent.md §1).

Threads: the ticker (collections), the host-spec updater (at start, hourly, on HUP), the
check-report poster, the plugins' check and metadata loops, and the metric poster. Each sleeps
until its next deadline or event. The main thread sleeps in one read of a signal pipe until a
signal arrives or the poster ends.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sabamon.agent.api import AgentApi, ApiError
from sabamon.agent.clock import SYSTEM_CLOCK
from sabamon.agent.collect import Gatherer, Ticker
from sabamon.agent.config import AgentConfig
from sabamon.agent.host import RetryPolicy, prepare_host, resolve_custom_identifiers
from sabamon.agent.hostspec import HostSpecOptions, build_host_spec
from sabamon.agent.loop import (
    CheckReportPoster,
    ForcedExit,
    LoopTimings,
    MetricPoster,
    Shutdown,
    deliver_halving,
    host_delay_seconds,
    sent,
)
from sabamon.agent.metrics import CollectorOptions, linux_generators
from sabamon.agent.metrics.base import MetricGenerator
from sabamon.agent.plugins import Plugins
from sabamon.agent.signals import SignalPipe
from sabamon.agent.spool import BatchKind, Spool

log = logging.getLogger(__name__)

TERMINATE_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)
EXIT_WAIT_SECONDS = 5.0
"""How long the exit waits, at most, for the collections under way and the check loop's last
flush (the plugins they run are bounded by their own timeouts, which may be longer)."""


@dataclass
class RunSettings:
    config: AgentConfig
    root: Path
    timings: LoopTimings = field(default_factory=LoopTimings)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


def export_proxy_env(config: AgentConfig) -> None:
    """`http_proxy`/`https_proxy` become HTTP_PROXY/HTTPS_PROXY unless empty or "direct";
    `http_proxy` alone covers HTTPS too."""
    http = config.http_proxy if config.http_proxy != "direct" else ""
    https = config.https_proxy if config.https_proxy != "direct" else ""
    if http:
        os.environ["HTTP_PROXY"] = http
    if https or http:
        os.environ["HTTPS_PROXY"] = https or http


def spec_builder(config: AgentConfig, plugins: Plugins) -> Callable[[], dict[str, Any]]:
    options = HostSpecOptions(
        display_name=config.display_name or None,
        role_fullnames=list(config.roles),
        checks=plugins.host_spec_checks(),
        cloud_platform=config.cloud_platform,
    )
    return lambda: build_host_spec(options)


def _spec_updates(
    api: AgentApi,
    host_id: str,
    build: Callable[[], dict[str, Any]],
    hup: threading.Event,
    stop: threading.Event,
    interval: float,
) -> None:
    while not stop.is_set():
        try:
            api.update_host(host_id, build())
            log.info("event=host_spec_updated host_id=%s", host_id)
        except ApiError as err:
            log.warning("event=host_spec_update_failed error=%r", str(err))
        hup.wait(interval)
        hup.clear()


def _thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def _leave_while_starting() -> None:
    """Until the loop runs, INT/TERM/QUIT end the start-up at once with status 0 (nothing is
    spooled yet) and HUP is ignored (the specs are sent at the start anyway)."""

    def leave(signum: int, frame: object) -> None:
        log.info("event=stopped_while_starting signal=%d", signum)
        raise SystemExit(0)

    for sig in TERMINATE_SIGNALS:
        signal.signal(sig, leave)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def run_agent(settings: RunSettings) -> int:
    config, root, timings = settings.config, settings.root, settings.timings
    _leave_while_starting()
    export_proxy_env(config)
    api = AgentApi(config.apibase, config.apikey, keep_alive=not config.disable_http_keep_alive)
    plugins = Plugins.from_config(config.plugins, root)
    build_spec = spec_builder(config, plugins)
    host_id = prepare_host(api, root, build_spec(), config.on_start, settings.retry)
    identifiers = {m.custom_identifier for m in config.plugins.metrics if m.custom_identifier}
    identifiers |= {c.custom_identifier for c in config.plugins.checks if c.custom_identifier}
    host_ids: dict[str | None, str] = {None: host_id}
    host_ids.update(resolve_custom_identifiers(api, {i for i in identifiers if i}))

    spool = Spool(root / "spool", config.spool_max_bytes)
    generators: list[MetricGenerator] = list(
        linux_generators(
            CollectorOptions(
                filesystems_ignore=config.filesystems_ignore,
                filesystems_use_mountpoint=config.filesystems_use_mountpoint,
                disks_ignore=config.disks_ignore,
                interfaces_ignore=config.interfaces_ignore,
            )
        )
    )
    generators += plugins.metric_generators()
    if config.diagnostic:  # imported here: psutil costs ~0.7 MB of RSS
        from sabamon.agent.diagnostic import DiagnosticGenerator

        generators.append(DiagnosticGenerator(spool))

    stop = threading.Event()
    hup = threading.Event()
    shutdown = Shutdown(timings.max_terminating)
    gatherer = Gatherer(generators, host_ids.get, timings, stop)
    # What start-up built lives as long as the process: out of the collector's way, a full
    # collection walks only what the loop allocates (measured: 3 ms a full pass otherwise).
    gc.collect()
    gc.freeze()
    ticker = Ticker(gatherer, spool, timings, stop)
    _thread(ticker.run, "ticker")
    _thread(
        lambda: _spec_updates(api, host_id, build_spec, hup, stop, timings.spec_interval), "spec"
    )

    host_delay = host_delay_seconds(host_id, int(timings.post_interval) or 1)
    with SignalPipe((*TERMINATE_SIGNALS, signal.SIGHUP)) as signals:
        outcome: list[BaseException | None] = []
        plugin_loops: list[threading.Thread] = []

        def post_loop() -> None:
            try:
                if shutdown.wait(host_delay / 2) and shutdown.terminating:
                    outcome.append(None)
                    return
                plugin_loops.extend(
                    _start_plugin_loops(
                        api, plugins, spool, host_ids, stop, config.diagnostic, timings
                    )
                )
                _thread(CheckReportPoster(api, spool, timings, shutdown).run, "check-reports")
                MetricPoster(api, spool, timings, host_delay, shutdown).run()
                outcome.append(None)
            except BaseException as err:
                outcome.append(err)
            finally:
                signals.wake()

        _thread(post_loop, "poster")
        log.info("event=agent_started host_id=%s post_second=%d", host_id, host_delay)
        _main_loop(signals, shutdown, hup, stop, spool, outcome)
        try:
            stop.set()
            shutdown.cancel_timers()
            gatherer.close()
            _wait_for_collections_and_loops(ticker, plugin_loops)
            return _finish(api, config, host_id, spool, outcome)
        finally:
            plugins.runner.close()  # what plugins left behind ends with the agent
            api.close()


def _main_loop(
    signals: SignalPipe,
    shutdown: Shutdown,
    hup: threading.Event,
    stop: threading.Event,
    spool: Spool,
    outcome: list[BaseException | None],
) -> None:
    """Sleep until a signal or the poster's end: INT/TERM/QUIT ask for the drain (a second one
    forces the exit), HUP updates the host specs."""
    while not outcome:
        for signum in signals.wait():
            if signum == signal.SIGHUP:
                hup.set()
            elif signum in TERMINATE_SIGNALS:
                shutdown.request()
                if not stop.is_set():
                    log.info("event=terminating pending_batches=%d", spool.count(BatchKind.METRICS))
                    stop.set()  # no new collections; in-flight ones end early, unspooled


def _wait_for_collections_and_loops(ticker: Ticker, plugin_loops: list[threading.Thread]) -> None:
    """Before the spool closes, the collections under way end (unspooled, `stop` is set) and
    the check loop spools its pending reports once more, within `EXIT_WAIT_SECONDS` in all,
    so a plugin that never ends cannot hold the exit."""
    deadline = time.monotonic() + EXIT_WAIT_SECONDS
    ticker.close(EXIT_WAIT_SECONDS)
    for loop in plugin_loops:
        loop.join(max(0.0, deadline - time.monotonic()))


def _finish(
    api: AgentApi,
    config: AgentConfig,
    host_id: str,
    spool: Spool,
    outcome: list[BaseException | None],
) -> int:
    error = outcome[0]
    if isinstance(error, ForcedExit):
        log.error("event=forced_exit pending_batches=%d", spool.count())
        spool.close()
        return 1
    if error is not None:
        spool.close()
        raise error
    spool.close()
    if config.on_stop:
        try:
            api.update_host_status(host_id, config.on_stop)
        except ApiError as err:
            log.warning("event=status_on_stop_failed error=%r", str(err))
    log.info("event=agent_stopped")
    return 0


def _start_plugin_loops(
    api: AgentApi,
    plugins: Plugins,
    spool: Spool,
    host_ids: dict[str | None, str],
    stop: threading.Event,
    diagnostic: bool,
    timings: LoopTimings,
) -> list[threading.Thread]:
    """After the initial delay: graph defs once (halved on 413), then the check and
    metadata loops, whose threads are returned so the exit can wait for their last flush."""
    defs = plugins.graph_defs()
    if diagnostic:
        from sabamon.agent.diagnostic import GRAPH_DEFS

        defs += GRAPH_DEFS
    window = timings.network_retry_window
    if defs and (
        error := deliver_halving(
            lambda part: sent(lambda: api.create_graph_defs(part), SYSTEM_CLOCK, window),
            defs,
            "graph_defs",
        )
    ):
        log.error("event=graph_defs_failed error=%r", str(error))

    def submit_reports(reports: list[dict[str, Any]]) -> None:
        spool.append(BatchKind.CHECK_REPORTS, reports)

    loops = []
    checks = plugins.check_loop(submit_reports, host_ids.get)
    if checks is not None:
        loops.append(_thread(lambda: checks.run(stop), "checks"))
    metadata = plugins.metadata_loop(api.put_metadata, host_ids.get)
    if metadata is not None:
        _thread(lambda: metadata.run(stop), "metadata")
    return loops
