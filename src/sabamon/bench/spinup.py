"""`sabamon bench spinup`: time from `sabamon server` process start to its first 200.

Each run starts a real server process on a free loopback port, polls `GET /healthz` every
few milliseconds, notes when the first 200 arrives, then stops the server with SIGTERM.
The first run on a new data folder also creates the schema and the first key (cold);
later runs find them (warm).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sabamon.bench.http import Connection, Endpoint

POLL_EVERY = 0.005
START_TIMEOUT = 60.0


class SpinupError(Exception):
    """The server did not answer 200 in time, or exited first."""


@dataclass
class SpinupReport:
    seconds: list[float]
    workers: int
    backend: str

    @property
    def cold(self) -> float:
        return self.seconds[0]

    @property
    def warm_median(self) -> float | None:
        warm = self.seconds[1:]
        return statistics.median(warm) if warm else None

    def table(self) -> str:
        warm = self.warm_median
        warm_text = f"{warm:.3f} s (median of {len(self.seconds) - 1})" if warm else "-"
        runs = " ".join(f"{value:.3f}" for value in self.seconds)
        return (
            f"spin-up, process start to first 200 ({self.backend}, {self.workers} worker(s)):\n"
            f"  cold (new data folder): {self.cold:.3f} s\n"
            f"  warm: {warm_text}\n"
            f"  runs: {runs}"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "workers": self.workers,
            "backend": self.backend,
            "seconds": self.seconds,
            "cold": self.cold,
            "warm_median": self.warm_median,
        }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def first_ok(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    endpoint = Endpoint.from_url(url)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SpinupError(f"the server exited with {process.returncode} before answering")
        connection = Connection(endpoint, {})
        try:
            answer = await connection.request("GET", "/healthz")
            if answer.status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        await asyncio.sleep(POLL_EVERY)
    raise SpinupError(f"no 200 from {url}/healthz within {START_TIMEOUT:g} s")


def measure_once(data_dir: Path, db_url: str | None, workers: int) -> float:
    port = free_port()
    command = [sys.executable, "-m", "sabamon.cli", "server", "--listen", f"127.0.0.1:{port}"]
    command += ["--data", str(data_dir), "--workers", str(workers), "--log-level", "warning"]
    if db_url:
        command += ["--db", db_url]
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        asyncio.run(first_ok(f"http://127.0.0.1:{port}", process, started + START_TIMEOUT))
        return time.monotonic() - started
    except SpinupError as error:
        process.kill()
        stderr = process.communicate()[1].decode(errors="replace")[-2000:]
        raise SpinupError(f"{error}\n{stderr}") from None
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def measure(runs: int, workers: int, db_url: str | None, data_dir: Path | None) -> SpinupReport:
    with tempfile.TemporaryDirectory(prefix="sabamon-spinup-") as scratch:
        folder = data_dir or Path(scratch)
        seconds = [measure_once(folder, db_url, workers) for _ in range(runs)]
    return SpinupReport(seconds, workers, "postgresql" if db_url else "sqlite")
