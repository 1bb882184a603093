"""A real `sabamon server` and a real agent subprocess: the host appears with its specs and its
metrics are readable through the API."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from agent_process import SERVER_API_KEY, start_agent, stop, write_config
from tests.support.waiting import wait_until

LINUX_METRICS = ("loadavg1", "cpu.user.percentage", "memory.total", "memory.used")


def stored(client: httpx.Client, host_id: str, name: str) -> list[dict[str, float]]:
    now = int(time.time())
    answer = client.get(
        f"/api/v0/hosts/{host_id}/metrics", params={"name": name, "from": now - 600, "to": now + 60}
    )
    return answer.json().get("metrics", []) if answer.status_code == 200 else []


def test_agent_against_sabamon_server(
    sabamon_server: str, server_client: httpx.Client, tmp_path: Path
) -> None:
    conf = write_config(tmp_path, sabamon_server)
    conf.write_text(conf.read_text().replace("test-key", SERVER_API_KEY))
    agent = start_agent(conf, tmp_path / "root")
    try:
        wait_until(lambda: (tmp_path / "root" / "id").exists())
        host_id = (tmp_path / "root" / "id").read_text()
        names = (*LINUX_METRICS, "custom.counter")
        wait_until(lambda: all(stored(server_client, host_id, name) for name in names), timeout=30)
        assert stop(agent) == 0
    finally:
        stop(agent)
    host = server_client.get(f"/api/v0/hosts/{host_id}").json()["host"]
    assert host["id"] == host_id and host["status"] == "working"
    meta = host["meta"]
    assert meta["agent-name"].startswith("sabamon-agent/")
    assert meta["kernel"]["name"] == "Linux" and meta["kernel"]["release"]
    assert meta["cpu"] and meta["cpu"][0]["model_name"]
    assert meta["memory"]["total"].endswith("kB")
    assert meta["filesystem"]
    names = server_client.get(f"/api/v0/hosts/{host_id}/metric-names").json()["names"]
    assert set(LINUX_METRICS) <= set(names)
    value = stored(server_client, host_id, "memory.total")[0]["value"]
    assert value > 64 * 2**20  # bytes, not kB
