"""Metadata plugins: a command printing JSON becomes host metadata under the plugin's name.

    loop = MetadataLoop(
        plugins,           # MetadataPluginConfig tuple from parse_plugins
        runner,            # the shared PluginRunner
        put_metadata,      # (host_id, namespace, value) -> None, raises on failure
        resolve_host_id,   # (None) -> the agent's host id, None while unknown
        root_dir,          # the agent root: caches live in <root>/metadata/<name>
        clock=SystemClock(),
    )
    threading.Thread(target=loop.run, args=(stop,)).start()

Each plugin runs 10 s after start, then every `execution_interval`. A value equal to the
cached one is not sent. Once a minute the newest value per plugin is PUT; on success it is
cached, a 5xx keeps it for the next minute, any other error clears the cache so the next
run sends it again. A plugin whose `env` sets MACKEREL_PLUGIN_WORKDIR keeps mackerel-agent's
cache file, `$MACKEREL_PLUGIN_WORKDIR/mackerel-plugin-metadata-<name>`.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sabamon.agent.api import is_server_error
from sabamon.agent.clock import Clock, SystemClock, next_delay
from sabamon.agent.plugins.config import MetadataPluginConfig
from sabamon.agent.plugins.runner import PluginRunner

log = logging.getLogger(__name__)

FIRST_RUN_DELAY_SECONDS = 10.0
PUT_INTERVAL_SECONDS = 60.0

PutMetadata = Callable[[str, str, Any], None]
_NOT_CACHED = object()


def cache_path(plugin: MetadataPluginConfig, root_dir: Path) -> Path:
    safe_name = plugin.name.replace(os.sep, "_")
    workdir = plugin.command.env.get("MACKEREL_PLUGIN_WORKDIR")
    if workdir:
        return Path(workdir) / f"mackerel-plugin-metadata-{safe_name}"
    return root_dir / "metadata" / safe_name


class MetadataCache:
    """The last value the server accepted for one plugin, written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> Any:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return _NOT_CACHED
        except (OSError, ValueError) as exc:
            log.warning("event=metadata_cache_unreadable path=%s error=%r", self.path, str(exc))
            return _NOT_CACHED

    def save(self, value: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile  # here: ~0.4 MB of RSS that an agent without metadata plugins spares

        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w") as stream:
                json.dump(value, stream)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


class MetadataLoop:
    """Runs metadata plugins and PUTs changed values once a minute."""

    def __init__(
        self,
        plugins: Sequence[MetadataPluginConfig],
        runner: PluginRunner,
        put_metadata: PutMetadata,
        resolve_host_id: Callable[[str | None], str | None],
        root_dir: Path,
        *,
        clock: Clock | None = None,
        first_run_delay: float = FIRST_RUN_DELAY_SECONDS,
        put_interval: float = PUT_INTERVAL_SECONDS,
        retry_later: Callable[[BaseException], bool] = is_server_error,
    ) -> None:
        self._plugins = list(plugins)
        self._runner = runner
        self._put_metadata = put_metadata
        self._resolve_host_id = resolve_host_id
        self._caches = {p.name: MetadataCache(cache_path(p, Path(root_dir))) for p in plugins}
        self._clock = clock or SystemClock()
        self._first_run_delay = first_run_delay
        self._put_interval = put_interval
        self._retry_later = retry_later
        self._queued: dict[str, Any] = {}
        self._lock = threading.Lock()

    def run(self, stop: threading.Event) -> None:
        for plugin in self._plugins:
            threading.Thread(
                target=self._run_plugin, args=(plugin, stop), name=plugin.name, daemon=True
            ).start()
        start = self._clock.now()
        while not self._clock.wait(stop, next_delay(start, self._clock.now(), self._put_interval)):
            self.put_queued()

    def _run_plugin(self, plugin: MetadataPluginConfig, stop: threading.Event) -> None:
        if self._clock.wait(stop, self._first_run_delay):
            return
        start = self._clock.now()
        interval = plugin.execution_interval_minutes * 60.0
        while True:
            self.fetch(plugin)
            if self._clock.wait(stop, next_delay(start, self._clock.now(), interval)):
                return

    def fetch(self, plugin: MetadataPluginConfig) -> None:
        """Run the plugin once and queue its value if it differs from the cache."""
        key = plugin.command.key
        result = self._runner.run(plugin.command)
        if result.error or result.exit_code != 0:
            reason = result.error or f"exit code {result.exit_code}"
            log.warning("event=metadata_plugin_failed plugin=%s error=%r", key, reason)
            return
        try:
            value = json.loads(result.stdout)
        except ValueError as exc:
            log.warning("event=metadata_invalid_json plugin=%s error=%r", key, str(exc))
            return
        if value == self._caches[plugin.name].load():
            return
        with self._lock:
            self._queued[plugin.name] = value

    def put_queued(self) -> None:
        """PUT the newest queued value of each plugin."""
        with self._lock:
            queued, self._queued = self._queued, {}
        if not queued:
            return
        host_id = self._resolve_host_id(None)
        for namespace, value in queued.items():
            if host_id is None:
                self._requeue(namespace, value)
                continue
            try:
                self._put_metadata(host_id, namespace, value)
            except Exception as exc:
                if self._retry_later(exc):
                    log.warning("event=metadata_put_retry plugin=%s error=%r", namespace, str(exc))
                    self._requeue(namespace, value)
                else:
                    log.error("event=metadata_put_failed plugin=%s error=%r", namespace, str(exc))
                    self._caches[namespace].clear()
                continue
            try:
                self._caches[namespace].save(value)
            except OSError as exc:
                log.error(
                    "event=metadata_cache_write_failed plugin=%s error=%r", namespace, str(exc)
                )

    def _requeue(self, namespace: str, value: Any) -> None:
        with self._lock:
            self._queued.setdefault(namespace, value)
