from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from agent_process import SERVER_API_KEY, stop
from fault_server import FaultServer
from tests.support.waiting import SERVER_START_TIMEOUT, free_port, wait_until


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as peer:
        yield peer


@pytest.fixture
def sabamon_server(tmp_path: Path) -> Iterator[str]:
    """A real `sabamon server` on loopback with SQLite in `tmp_path`; yields its URL. Its key
    is SERVER_API_KEY."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "sabamon.cli", "server", "--listen", f"127.0.0.1:{port}"]
    with (tmp_path / "server.log").open("ab") as log:
        process = subprocess.Popen(
            [*command, "--data", str(tmp_path / "data")],
            env={**os.environ, "SABAMON_BOOTSTRAP_API_KEY": SERVER_API_KEY},
            stdout=log,
            stderr=log,
        )

    def healthy() -> bool:
        assert process.poll() is None, "the server exited"
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, timeout=SERVER_START_TIMEOUT)
        yield url
    finally:
        stop(process)


@pytest.fixture
def server_client(sabamon_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sabamon_server, headers={"X-Api-Key": SERVER_API_KEY}) as client:
        yield client
