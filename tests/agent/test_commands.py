"""`sabamon agent once`, `agent retire [--force]` and `diagnostic = true`, as real subprocesses
against a real `sabamon server` or the fault-injecting loopback peer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
from agent_process import SERVER_API_KEY, start_agent, stop, write_config
from fault_server import FaultServer
from tests.support.waiting import wait_until

AGENT = [sys.executable, "-m", "sabamon.cli", "agent"]


def test_once_prints_spec_and_values_and_posts_nothing(server: FaultServer, tmp_path: Path) -> None:
    conf = write_config(tmp_path, server.url)
    result = subprocess.run(
        [*AGENT, "once", "--conf", str(conf), "--root", str(tmp_path / "root")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert set(output) == {"host", "metrics"}
    host = output["host"]
    assert host["name"] and host["meta"]["kernel"]["name"] == "Linux"
    assert isinstance(host["interfaces"], list) and "cpu" in host["meta"]
    assert set(output["metrics"]) == {"Created", "Values"}
    values = output["metrics"]["Values"]
    assert {"loadavg1", "memory.total", "cpu.user.percentage", "custom.counter"} <= set(values)
    assert all(isinstance(v, float) for v in values.values())
    assert server.requests == []  # posts nothing, registers nothing
    assert not (tmp_path / "root" / "id").exists()


def register(client: httpx.Client, root: Path) -> str:
    answer = client.post("/api/v0/hosts", json={"name": "retiree", "meta": {}})
    answer.raise_for_status()
    host_id: str = answer.json()["id"]
    root.mkdir()
    (root / "id").write_text(host_id)
    return host_id


def retire(
    conf: Path, root: Path, *flags: str, answer: str = ""
) -> subprocess.CompletedProcess[str]:
    command = [*AGENT, "retire", *flags, "--conf", str(conf), "--root", str(root)]
    return subprocess.run(command, input=answer, capture_output=True, text=True, timeout=60)


def server_config(tmp_path: Path, url: str) -> Path:
    conf = tmp_path / "agent.conf"
    conf.write_text(f'apikey = "{SERVER_API_KEY}"\napibase = "{url}"\ncloud_platform = "none"\n')
    return conf


def test_retire_force(sabamon_server: str, server_client: httpx.Client, tmp_path: Path) -> None:
    root = tmp_path / "root"
    host_id = register(server_client, root)
    result = retire(server_config(tmp_path, sabamon_server), root, "--force")
    assert result.returncode == 0, result.stderr
    assert not (root / "id").exists()
    host = server_client.get(f"/api/v0/hosts/{host_id}").json()["host"]
    assert host["isRetired"] is True


def test_retire_asks_first(
    sabamon_server: str, server_client: httpx.Client, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    host_id = register(server_client, root)
    conf = server_config(tmp_path, sabamon_server)
    declined = retire(conf, root, answer="n\n")
    assert declined.returncode == 1 and (root / "id").read_text() == host_id
    assert server_client.get(f"/api/v0/hosts/{host_id}").json()["host"]["isRetired"] is False
    accepted = retire(conf, root, answer="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert not (root / "id").exists()
    assert server_client.get(f"/api/v0/hosts/{host_id}").json()["host"]["isRetired"] is True


def test_retire_without_id_file_says_so(tmp_path: Path) -> None:
    result = retire(server_config(tmp_path, "http://127.0.0.1:9"), tmp_path / "root", "--force")
    assert result.returncode == 1 and "no id file" in result.stderr


def test_diagnostic_adds_the_agent_metrics(server: FaultServer, tmp_path: Path) -> None:
    agent = start_agent(write_config(tmp_path, server.url, "diagnostic = true"), tmp_path / "root")
    wanted = {"custom.agent.memory.rss", "custom.agent.cpu.seconds", "custom.agent.spool.batches"}
    wait_until(lambda: wanted <= {v["name"] for v in server.stored})
    assert stop(agent) == 0
    rss = [v["value"] for v in server.stored if v["name"] == "custom.agent.memory.rss"]
    assert 5 * 2**20 < rss[0] < 200 * 2**20
    defs = [
        d["name"] for call in server.calls("POST", "/api/v0/graph-defs/create") for d in call.body
    ]
    assert {"custom.agent.memory", "custom.agent.cpu", "custom.agent.spool"} <= set(defs)


def test_without_diagnostic_no_agent_metrics(server: FaultServer, tmp_path: Path) -> None:
    agent = start_agent(write_config(tmp_path, server.url), tmp_path / "root")
    wait_until(lambda: len({v["time"] for v in server.stored}) >= 2)
    assert stop(agent) == 0
    assert not [v for v in server.stored if v["name"].startswith("custom.agent.")]
