"""Metadata plugins as real scripts: a PUT only on change, the cache file, 5xx re-queued,
other errors clear the cache, bad output logged."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plugin_helpers import FakeClock, script
from tests.support.waiting import wait_until

from sabamon.agent.api import ApiError
from sabamon.agent.plugins.config import MetadataPluginConfig, PluginCommand
from sabamon.agent.plugins.metadata import MetadataLoop, cache_path
from sabamon.agent.plugins.runner import PluginRunner

START = 1_000_000.0


class Server:
    """The core's `put_metadata`, answering with the errors a test queues."""

    def __init__(self) -> None:
        self.puts: list[tuple[str, str, Any]] = []
        self.errors: list[Exception] = []

    def __call__(self, host_id: str, namespace: str, value: Any) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.puts.append((host_id, namespace, value))


def plugin(tmp_path: Path, name: str = "inventory", **env: str) -> MetadataPluginConfig:
    env = {"METADATA_FILE": str(tmp_path / "value.json"), "RUN_LOG": str(tmp_path / "runs"), **env}
    command = PluginCommand(key=f"plugin.metadata.{name}", command=script("metadata.sh"), env=env)
    return MetadataPluginConfig(name=name, command=command, execution_interval_minutes=10)


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    event = threading.Event()
    yield event
    event.set()


def runs(tmp_path: Path) -> int:
    log = tmp_path / "runs"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_put_only_on_change_with_cache(
    runner: PluginRunner, clock: FakeClock, stop: threading.Event, tmp_path: Path
) -> None:
    (tmp_path / "value.json").write_text('{"rack": "A1", "slots": [1, 2]}')
    server = Server()
    config = plugin(tmp_path)
    loop = MetadataLoop(
        [config], runner, server, lambda _: "host-1", tmp_path / "root", clock=clock
    )
    thread = threading.Thread(target=loop.run, args=(stop,))
    thread.start()
    clock.wait_until_sleeping(START + 10, START + 60)  # first run after 10 s
    clock.advance(10)
    wait_until(lambda: runs(tmp_path) == 1)
    clock.wait_until_sleeping(START + 610, START + 60)
    clock.advance(50)  # the minute's PUT
    wait_until(lambda: len(server.puts) == 1)
    assert server.puts == [("host-1", "inventory", {"rack": "A1", "slots": [1, 2]})]
    cache = tmp_path / "root" / "metadata" / "inventory"
    wait_until(cache.exists)  # written once the PUT returned
    assert json.loads(cache.read_text()) == {"rack": "A1", "slots": [1, 2]}
    # Same value ten minutes later: no PUT. A changed value: one PUT.
    clock.wait_until_sleeping(START + 610, START + 120)
    clock.advance(550)
    wait_until(lambda: runs(tmp_path) == 2)
    (tmp_path / "value.json").write_text('{"rack": "B2"}')
    clock.wait_until_sleeping(START + 1210, START + 660)
    clock.advance(600)
    wait_until(lambda: runs(tmp_path) == 3)
    clock.wait_until_sleeping(START + 1810, START + 1260)
    clock.advance(50)
    wait_until(lambda: len(server.puts) == 2)
    stop.set()
    thread.join(5)
    assert [value for _, _, value in server.puts] == [
        {"rack": "A1", "slots": [1, 2]},
        {"rack": "B2"},
    ]
    assert json.loads(cache.read_text()) == {"rack": "B2"}


def test_server_error_requeues_other_errors_clear_the_cache(
    runner: PluginRunner, tmp_path: Path
) -> None:
    (tmp_path / "value.json").write_text('{"v": 1}')
    server = Server()
    config = plugin(tmp_path)
    loop = MetadataLoop([config], runner, server, lambda _: "host-1", tmp_path / "root")
    cache = cache_path(config, tmp_path / "root")
    server.errors = [ApiError(503, "busy"), ApiError(None, "connection refused")]
    loop.fetch(config)
    loop.put_queued()  # 503: kept for the next minute
    assert server.puts == [] and not cache.exists()
    loop.put_queued()  # network error: dropped, cache cleared
    assert server.puts == [] and not cache.exists()
    loop.put_queued()
    assert server.puts == []
    loop.fetch(config)  # the next run sends it again, since nothing is cached
    loop.put_queued()
    assert server.puts == [("host-1", "inventory", {"v": 1})] and cache.exists()
    server.errors = [ApiError(400, "bad namespace")]
    (tmp_path / "value.json").write_text('{"v": 2}')
    loop.fetch(config)
    loop.put_queued()
    assert not cache.exists()  # a 4xx clears the cache: the next run re-sends


def test_bad_output_is_logged_and_nothing_sent(
    runner: PluginRunner, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "value.json").write_text("not json {")
    server = Server()
    config = plugin(tmp_path)
    missing = MetadataPluginConfig(
        name="gone", command=PluginCommand(key="plugin.metadata.gone", command=("/nonexistent",))
    )
    loop = MetadataLoop([config, missing], runner, server, lambda _: "h", tmp_path)
    loop.fetch(config)
    loop.fetch(missing)
    loop.put_queued()
    assert server.puts == []
    assert "event=metadata_invalid_json plugin=plugin.metadata.inventory" in caplog.text
    assert "event=metadata_plugin_failed plugin=plugin.metadata.gone" in caplog.text


def test_unknown_host_keeps_the_value(runner: PluginRunner, tmp_path: Path) -> None:
    (tmp_path / "value.json").write_text("[1]")
    server = Server()
    host: list[str | None] = [None]
    config = plugin(tmp_path)
    loop = MetadataLoop([config], runner, server, lambda _: host[0], tmp_path)
    loop.fetch(config)
    loop.put_queued()
    host[0] = "host-late"
    loop.put_queued()
    assert server.puts == [("host-late", "inventory", [1])]


def test_plugin_workdir_keeps_mackerel_agents_cache_file(tmp_path: Path) -> None:
    config = plugin(tmp_path, MACKEREL_PLUGIN_WORKDIR=str(tmp_path / "work"))
    path = cache_path(config, tmp_path / "root")
    assert path == tmp_path / "work" / "mackerel-plugin-metadata-inventory"
