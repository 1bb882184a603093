"""SIGTERM while maintenance works through a large backlog: a prompt exit, nothing lost."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time

import httpx
import psycopg
from api_helpers import ok, register, series
from api_server import Backend
from server_process import ServerProcess

from sabamon.server.cli import ORG_NAME
from sabamon.server.store.records import Point

KEY = "test-bootstrap-key-shutdown-0123"
BACKLOG_SERIES = 12000
BUCKETS_PER_SERIES = 100
"""1,200,000 points over 12,000 series' head: several seconds of sealing on either backend."""


async def fill_backlog(backend: Backend) -> None:
    """Points of a day ago, written straight to the store: sealing work waiting."""
    store = backend.store()
    await store.open()
    try:
        org, _ = await store.ensure_org(ORG_NAME)
        then = int(time.time()) - 86400
        for first in range(0, BACKLOG_SERIES, 300):
            points = [
                Point(f"backlog-{s}", "m", then - 300 * b, 1.0)
                for s in range(first, first + 300)
                for b in range(BUCKETS_PER_SERIES)
            ]
            await store.series.write_points(org.id, "host", points, then)
    finally:
        await store.close()


def head_marks(backend: Backend) -> int:
    """The (hour, series) pairs in the head, which sealing takes away."""
    query = "SELECT count(*) FROM head_windows"
    if backend.db_url is None:
        with sqlite3.connect(backend.data_dir / "sabamon.db") as conn:
            return int(conn.execute(query).fetchone()[0])
    with psycopg.connect(backend.db_url) as conn:
        row = conn.execute(query).fetchone()
        assert row is not None
        return int(row[0])


def test_sigterm_during_maintenance_exits_promptly_and_keeps_acknowledged_points(
    backend: Backend, servers: list[ServerProcess]
) -> None:
    asyncio.run(fill_backlog(backend))
    backlog = head_marks(backend)
    assert backlog >= BACKLOG_SERIES * 8  # 100 points 5 minutes apart span 8 hours
    # A 60x clock: maintenance runs every second of real time.
    env = {"SABAMON_BOOTSTRAP_API_KEY": KEY, "SABAMON_CLOCK_SCALE": "60"}
    log_file = backend.data_dir / "server.log"
    server = ServerProcess(backend, env, log_file)
    servers.append(server)
    headers = {"X-Api-Key": KEY}
    acknowledged: list[int] = []
    # maintenance starts a second after the server: the post may wait for its chunks'
    # writes, seconds on a loaded machine; one post, so that sealing the backlog (about a
    # second of work on a quiet machine) is still going on when it is acknowledged
    with httpx.Client(base_url=server.url, headers=headers, timeout=60) as http:
        host_id = register(http, "live")
        at = (int(time.time()) // 60 - 30) * 60
        minutes = range(20)
        body = [
            {"hostId": host_id, "name": "load", "time": at + 60 * m, "value": m} for m in minutes
        ]
        ok(http.post("/api/v0/tsdb", json=body))
        acknowledged.extend(minutes)

    deadline = time.monotonic() + 60
    while head_marks(backend) >= backlog:  # sealing has started on the backlog
        assert time.monotonic() < deadline, "maintenance never started"
        time.sleep(0.02)
    sent = time.monotonic()
    server.stop()
    took = time.monotonic() - sent
    # uvicorn re-raises the signal once its graceful shutdown has finished
    assert server.process.returncode == -signal.SIGTERM
    assert "event=server_stopped" in log_file.read_text()
    assert took < 5, f"the server took {took:.1f}s to exit after SIGTERM"
    assert head_marks(backend) > 0, "the backlog finished before SIGTERM: make it larger"

    restarted = ServerProcess(backend, {"SABAMON_BOOTSTRAP_API_KEY": KEY})
    servers.append(restarted)
    with httpx.Client(base_url=restarted.url, headers=headers, timeout=10) as http:
        stored = {p["time"]: p["value"] for p in series(http, host_id, "load", at, at + 1200)}
    assert {at + 60 * m: float(m) for m in acknowledged} == stored
