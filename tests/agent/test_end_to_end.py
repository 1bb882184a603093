"""A real `sabamon server` and a real agent: the host appears and its metrics are stored."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from agent_process import start_agent, stop, wait_for, write_config

API_KEY = "e2e-agent-test-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def sabamon_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "sabamon.cli", "server", "--listen", f"127.0.0.1:{port}"]
    server = subprocess.Popen(
        [*command, "--data", str(tmp_path / "data")],
        env={**os.environ, "SABAMON_BOOTSTRAP_API_KEY": API_KEY},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def healthy() -> bool:
        assert server.poll() is None, "the server exited"
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, timeout=30)
        yield url
    finally:
        stop(server)


def test_agent_against_sabamon_server(sabamon_server: str, tmp_path: Path) -> None:
    conf = write_config(tmp_path, sabamon_server)
    conf.write_text(conf.read_text().replace("test-key", API_KEY))
    agent = start_agent(conf, tmp_path / "root")
    client = httpx.Client(base_url=sabamon_server, headers={"X-Api-Key": API_KEY})
    try:
        wait_for(lambda: (tmp_path / "root" / "id").exists())
        host_id = (tmp_path / "root" / "id").read_text()
        assert client.get(f"/api/v0/hosts/{host_id}").json()["host"]["id"] == host_id

        def stored() -> list[dict[str, float]]:
            now = int(time.time())
            answer = client.get(
                f"/api/v0/hosts/{host_id}/metrics",
                params={"name": "custom.counter", "from": now - 600, "to": now + 60},
            )
            return answer.json().get("metrics", []) if answer.status_code == 200 else []

        wait_for(lambda: len(stored()) >= 1, timeout=30)  # one-minute buckets
        assert stop(agent) == 0
    finally:
        stop(agent)
        client.close()
