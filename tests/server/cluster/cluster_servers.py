"""Several real `sabamon server` processes over one PostgreSQL and one Redis."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.support.waiting import SERVER_START_TIMEOUT, free_port, wait_until

API_KEY = "cluster-test-key"
CLOCK_SCALE = 20  # one clock minute every 3 s
EVALUATED = re.compile(r"event=monitor_evaluated monitor=(\S+) minute=(\d+)")
JOB_RAN = re.compile(r"event=job_ran job=(\S+) member=(\S+)")


@dataclass
class Server:
    name: str
    url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def evaluations(self) -> list[tuple[str, int]]:
        return [(m, int(minute)) for m, minute in EVALUATED.findall(self.log())]

    def healthy(self) -> bool:
        assert self.process.poll() is None, f"{self.name} exited:\n{self.log()[-3000:]}"
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False


@dataclass
class Cluster:
    root: Path
    db_url: str
    redis_url: str
    prefix: str
    anchor: float = field(default_factory=time.time)
    clock_scale: float = CLOCK_SCALE
    servers: list[Server] = field(default_factory=list)

    def start(self, name: str) -> Server:
        port = free_port()
        log_path = self.root / f"{name}.log"
        command = [
            sys.executable, "-m", "sabamon.cli", "server",
            "--listen", f"127.0.0.1:{port}", "--data", str(self.root / name),
            "--db", self.db_url, "--redis", self.redis_url, "--cluster-prefix", self.prefix,
            "--cluster-heartbeat", "0.2", "--cluster-ttl", "1.0", "--log-level", "debug",
        ]  # fmt: skip
        env = {
            **os.environ,
            "SABAMON_BOOTSTRAP_API_KEY": API_KEY,
            "SABAMON_CLOCK_SCALE": str(self.clock_scale),
            "SABAMON_CLOCK_ANCHOR": str(self.anchor),
        }
        with log_path.open("wb") as sink:
            process = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT)
        server = Server(name, f"http://127.0.0.1:{port}", log_path, process)
        self.servers.append(server)
        wait_until(server.healthy, SERVER_START_TIMEOUT, f"{name} to answer /healthz")
        return server

    def clock(self) -> float:
        return self.anchor + (time.time() - self.anchor) * self.clock_scale

    def evaluations(self) -> Counter[tuple[str, int]]:
        return Counter(e for server in self.servers for e in server.evaluations())

    def jobs_ran(self) -> Counter[str]:
        return Counter(job for s in self.servers for job, _ in JOB_RAN.findall(s.log()))

    def kill(self, server: Server) -> None:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)

    def stop_all(self) -> None:
        for server in self.servers:
            if server.process.poll() is None:
                server.process.send_signal(signal.SIGTERM)
        for server in self.servers:
            try:
                server.process.wait(15)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()
