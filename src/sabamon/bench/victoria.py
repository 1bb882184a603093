"""A scratch single-node VictoriaMetrics (Debian's `victoria-metrics`) on a loopback port,
for the benchmarks and the tests.

Each instance gets a free port and a scratch data folder, so parallel runs and other
VictoriaMetrics on the machine never share data. Flags are the ones the README recommends
for sabamon: one sample per series and second (`-dedup.minScrapeInterval=1s`), fresh
points visible at once (`-search.latencyOffset=0s`), a retention longer than any test time.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from sabamon.bench.spinup import free_port

BINARY = "victoria-metrics"
FLAGS = (
    "-dedup.minScrapeInterval=1s",
    "-search.latencyOffset=0s",
    "-retentionPeriod=100y",
    "-loggerLevel=ERROR",
    "-memory.allowedPercent=20",
)


class VictoriaMissing(RuntimeError):
    """The binary is not installed (scripts/test-deps.sh installs it)."""


@dataclass
class VictoriaProcess:
    """One running instance; `url` is its base URL (http://127.0.0.1:PORT)."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    flags: tuple[str, ...] = FLAGS

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> None:
        """Starts the binary (again, on the same port and data) and waits for /health."""
        binary = shutil.which(BINARY)
        if binary is None:
            raise VictoriaMissing(f"{BINARY} not found on PATH")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir.parent / f"victoria-{self.port}.log").open("ab")
        with log:
            self.process = subprocess.Popen(
                [
                    binary,
                    f"-storageDataPath={self.data_dir}",
                    f"-httpListenAddr=127.0.0.1:{self.port}",
                    *self.flags,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{BINARY} exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"{BINARY} did not answer /health within {timeout} s")

    def stop(self) -> None:
        """SIGTERM (VictoriaMetrics flushes its buffers), then wait."""
        if self.process is None:
            return
        self.resume()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def pause(self) -> None:
        """SIGSTOP: the port stays open, nothing answers (a hung peer)."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    def flush(self) -> None:
        """Makes buffered samples searchable (VictoriaMetrics' testing handler)."""
        httpx.get(self.url + "/internal/force_flush", timeout=10).raise_for_status()

    def cpu_seconds(self) -> float:
        """User + system CPU the process has used."""
        if self.process is None:
            return 0.0
        times = psutil.Process(self.process.pid).cpu_times()
        return float(times.user + times.system)

    def disk_bytes(self) -> int:
        """Bytes of every file under the data folder."""
        return sum(p.stat().st_size for p in self.data_dir.rglob("*") if p.is_file())
