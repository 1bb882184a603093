"""A real `sabamon server` process on a loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.support.waiting import SERVER_START_TIMEOUT, free_port

API_KEY = "bench-test-key-0123456789abcdef"


@dataclass
class ServerProcess:
    url: str
    apikey: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-Api-Key": self.apikey}, timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_server(data_dir: Path, *options: str) -> Iterator[ServerProcess]:
    """Starts `sabamon server --data DATA_DIR OPTIONS...`, waits for /healthz, stops it
    with SIGTERM at the end."""
    port = free_port()
    command = [sys.executable, "-m", "sabamon.cli", "server", "--listen", f"127.0.0.1:{port}"]
    command += ["--data", str(data_dir), "--log-level", "warning", *options]
    env = {**os.environ, "SABAMON_BOOTSTRAP_API_KEY": API_KEY}
    log_path = data_dir.parent / f"server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    server = ServerProcess(f"http://127.0.0.1:{port}", API_KEY, process, log_path)
    try:
        wait_healthy(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_healthy(server: ServerProcess, timeout: float = SERVER_START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{server.log()}")
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server did not answer in {timeout} s:\n{server.log()}")
