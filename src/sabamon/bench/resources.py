"""CPU and memory of the server under test, when it runs on this machine."""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlsplit

import psutil

from sabamon.bench.results import ProcessFigures

LOOPBACK = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def server_processes(url: str) -> list[psutil.Process]:
    """Every process holding the URL's listening socket (uvicorn's master and each of its
    workers), with their children; empty when the server is elsewhere or not visible."""
    parts = urlsplit(url)
    if parts.hostname not in LOOPBACK:
        return []
    port = parts.port or 80
    found: dict[int, psutil.Process] = {}
    for process in psutil.process_iter():
        try:
            if any(listens_on(conn, port) for conn in process.net_connections(kind="tcp")):
                for member in [process, *process.children(recursive=True)]:
                    found[member.pid] = member
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return list(found.values())


def database_processes() -> list[psutil.Process]:
    """The local PostgreSQL's processes, whose CPU the server's writes also cost."""
    found = []
    for process in psutil.process_iter(["name"]):
        if process.info["name"] in ("postgres", "postmaster"):
            found.append(process)
    return found


def listens_on(conn: Any, port: int) -> bool:
    return bool(conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port)


def cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def rss_bytes(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


class ServerWatch:
    """Samples the server's CPU at start and stop, and its RSS every `every` seconds."""

    def __init__(self, processes: list[psutil.Process], every: float = 0.5) -> None:
        self.processes = processes
        self.every = every
        self._stop = threading.Event()
        self._rss_max = 0
        self._thread = threading.Thread(target=self._sample, name="server-watch", daemon=True)
        self._cpu_start = 0.0
        self._started = 0.0

    def __enter__(self) -> ServerWatch:
        self._cpu_start = cpu_seconds(self.processes)
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self._elapsed = time.monotonic() - self._started
        self._cpu = cpu_seconds(self.processes) - self._cpu_start

    def _sample(self) -> None:
        while True:
            self._rss_max = max(self._rss_max, rss_bytes(self.processes))
            if self._stop.wait(self.every):
                return

    def figures(self) -> ProcessFigures:
        return ProcessFigures(
            processes=len(self.processes),
            cpu_seconds=round(self._cpu, 3),
            cpu_percent=round(100 * self._cpu / max(self._elapsed, 1e-9), 1),
            rss_max_mb=round(self._rss_max / 2**20, 1),
        )
