"""Agent plugins: metric plugins, graph definitions, check plugins and metadata plugins.

The core builds one `Plugins` from the parsed config and asks it for what each loop needs:

    plugins = Plugins.from_config(cfg.plugins, root_dir)
    generators += plugins.metric_generators()      # MetricGenerator per metric plugin
    api.create_graph_defs(plugins.graph_defs())    # once, after the initial delay
    loop = plugins.check_loop(submit_reports, resolve_host_id)      # None without checks
    loop = plugins.metadata_loop(api.put_metadata, resolve_host_id)  # None without metadata
    spec["checks"] = plugins.host_spec_checks()

All plugin runs share one `PluginRunner`, so `max_parallel` bounds them together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sabamon.agent.clock import Clock
from sabamon.agent.plugins.checks import CheckLoop, ResolveHostId, SubmitReports
from sabamon.agent.plugins.config import PluginsConfig, parse_plugins
from sabamon.agent.plugins.metadata import (
    FIRST_RUN_DELAY_SECONDS,
    PUT_INTERVAL_SECONDS,
    MetadataLoop,
    PutMetadata,
)
from sabamon.agent.plugins.metrics import MetricPluginGenerator, collect_graph_defs
from sabamon.agent.plugins.runner import (
    DEFAULT_KILL_GRACE_SECONDS,
    DEFAULT_MAX_PARALLEL,
    PluginRunner,
)

__all__ = ["Plugins", "PluginsConfig", "parse_plugins"]


class Plugins:
    def __init__(self, config: PluginsConfig, root_dir: Path, runner: PluginRunner) -> None:
        self.config = config
        self.root_dir = root_dir
        self.runner = runner
        self._generators = [MetricPluginGenerator(m, runner) for m in config.metrics]

    @classmethod
    def from_config(
        cls,
        config: PluginsConfig,
        root_dir: Path,
        *,
        max_parallel: int = DEFAULT_MAX_PARALLEL,
        kill_grace_seconds: float = DEFAULT_KILL_GRACE_SECONDS,
    ) -> Plugins:
        runner = PluginRunner(max_parallel=max_parallel, kill_grace_seconds=kill_grace_seconds)
        return cls(config, Path(root_dir), runner)

    def metric_generators(self) -> list[MetricPluginGenerator]:
        return list(self._generators)

    def graph_defs(self) -> list[dict[str, Any]]:
        """The `POST /api/v0/graph-defs/create` body; empty when no plugin has graph meta."""
        return collect_graph_defs(self._generators)

    def check_loop(
        self,
        submit_reports: SubmitReports,
        resolve_host_id: ResolveHostId,
        *,
        clock: Clock | None = None,
        flush_interval: float = 60.0,
    ) -> CheckLoop | None:
        if not self.config.checks:
            return None
        return CheckLoop(
            self.config.checks,
            self.runner,
            submit_reports,
            resolve_host_id,
            clock=clock,
            flush_interval=flush_interval,
        )

    def metadata_loop(
        self,
        put_metadata: PutMetadata,
        resolve_host_id: ResolveHostId,
        *,
        clock: Clock | None = None,
        first_run_delay: float = FIRST_RUN_DELAY_SECONDS,
        put_interval: float = PUT_INTERVAL_SECONDS,
    ) -> MetadataLoop | None:
        if not self.config.metadata:
            return None
        return MetadataLoop(
            self.config.metadata,
            self.runner,
            put_metadata,
            resolve_host_id,
            self.root_dir,
            clock=clock,
            first_run_delay=first_run_delay,
            put_interval=put_interval,
        )

    def host_spec_checks(self) -> list[dict[str, str]]:
        """The host spec's `checks`: check plugins of this host (no custom_identifier)."""
        return [
            {"name": check.name, **({"memo": check.memo} if check.memo else {})}
            for check in self.config.checks
            if check.custom_identifier is None
        ]
