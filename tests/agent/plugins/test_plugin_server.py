"""Plugins against a real `sabamon server` on loopback: graph definitions, check reports
and metadata are accepted and read back through the API."""

from __future__ import annotations

import threading
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx
from agent_process import SERVER_API_KEY
from plugin_helpers import FakeClock, script
from tests.support.waiting import wait_until

from sabamon.agent.api import AgentApi
from sabamon.agent.plugins import Plugins, parse_plugins


def test_plugins_reach_a_real_server(
    sabamon_server: str, server_client: httpx.Client, tmp_path: Path
) -> None:
    (tmp_path / "value.json").write_text('{"rack": "A1"}')
    config = parse_plugins(
        tomllib.loads(f"""
[plugin.metrics.sample]
command = "{script("metrics.sh")}"
[plugin.checks.disk]
command = "{script("check.sh")}"
env = {{ CHECK_EXIT = "2", CHECK_MESSAGE = "disk full" }}
memo = "clean /var"
[plugin.metadata.inventory]
command = "{script("metadata.sh")}"
env = {{ METADATA_FILE = "{tmp_path / "value.json"}" }}
""")["plugin"]
    )
    plugins = Plugins.from_config(config, tmp_path / "root", kill_grace_seconds=0.5)
    api = AgentApi(sabamon_server, SERVER_API_KEY)
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        spec = {
            "name": "plugin-e2e",
            "meta": {},
            "interfaces": [],
            "checks": plugins.host_spec_checks(),
        }
        assert spec["checks"] == [{"name": "disk", "memo": "clean /var"}]
        host_id = api.create_host(spec)
        api.create_graph_defs(plugins.graph_defs())  # raises on any non-2xx answer

        loop = plugins.check_loop(
            api.post_check_reports, lambda _: host_id, clock=FakeClock(time.time())
        )
        assert loop is not None
        threads.append(threading.Thread(target=loop.run, args=(stop,)))
        threads[0].start()

        def statuses() -> list[dict[str, Any]]:
            answer = server_client.get(f"/api/v0/hosts/{host_id}/monitored-statuses").json()
            found: list[dict[str, Any]] = answer.get("monitoredStatuses", [])
            return found

        wait_until(lambda: any(s["status"] == "CRITICAL" for s in statuses()))
        (status,) = statuses()
        assert status["detail"]["message"].strip() == "disk full"

        metadata = plugins.metadata_loop(api.put_metadata, lambda _: host_id)
        assert metadata is not None
        (inventory,) = config.metadata
        metadata.fetch(inventory)
        metadata.put_queued()
        answer = server_client.get(f"/api/v0/hosts/{host_id}/metadata/inventory")
        assert answer.status_code == 200 and answer.json() == {"rack": "A1"}
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        api.close()
