"""`sabamon` as a subprocess: one-shot commands, and a server process on a loopback port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from api_server import Backend
from tests.support.waiting import SERVER_START_TIMEOUT, free_port

SABAMON = [sys.executable, "-m", "sabamon.cli"]


def sabamon(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SABAMON, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def where(backend: Backend) -> list[str]:
    return ["--data", str(backend.data_dir)] + (["--db", backend.db_url] if backend.db_url else [])


class ServerProcess:
    def __init__(self, backend: Backend, env: dict[str, str], log_file: Path | None = None) -> None:
        """`log_file`, when given, receives the server's log (stderr)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        with contextlib.ExitStack() as parent_copy:  # the process keeps its own
            log = (
                subprocess.DEVNULL
                if log_file is None
                else parent_copy.enter_context(log_file.open("ab"))
            )
            self.process = subprocess.Popen(
                [*SABAMON, "server", "--listen", f"127.0.0.1:{self.port}", *where(backend)],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env={**os.environ, **env},
            )
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            assert self.process.poll() is None, "the server exited"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not become healthy"
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)

    def close(self) -> None:
        """Kills the server if it still runs and closes the pipe of its output."""
        self.stop(signal.SIGKILL)
        if self.process.stdout is not None:
            self.process.stdout.close()
