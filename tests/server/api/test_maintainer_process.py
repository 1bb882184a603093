"""`sabamon server --db` with maintenance in its own process: the process runs beside the
worker and seals what the worker stored, its figures reach the worker's /metrics, and it
ends with the server, whether the server is stopped or killed."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import httpx
import psutil
import psycopg
from api_helpers import ok, register, series
from api_server import Backend
from server_process import ServerProcess
from tests.support.waiting import wait_until

KEY = "test-maintainer-key-0123456789"
CLOCK_SCALE = "60"
"""A minute of the server's clock lasts a second: maintenance runs every second."""


def _maintainer(server: ServerProcess) -> psutil.Process:
    children = psutil.Process(server.process.pid).children()
    found = [c for c in children if "sabamon.server.maintainer" in " ".join(c.cmdline())]
    assert len(found) == 1, [c.cmdline() for c in children]
    return found[0]


def _gone(process: psutil.Process) -> bool:
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_the_maintainer_seals_beside_the_worker_and_ends_with_it(
    fresh_pg_dsn: str, tmp_path: Path
) -> None:
    backend = Backend("postgres", fresh_pg_dsn, tmp_path)
    env = {"SABAMON_BOOTSTRAP_API_KEY": KEY, "SABAMON_CLOCK_SCALE": CLOCK_SCALE}
    server = ServerProcess(backend, env, log_file=tmp_path / "server.log")
    try:
        maintainer = _maintainer(server)
        with httpx.Client(base_url=server.url, headers={"X-Api-Key": KEY}) as http:
            host_id = register(http, "sealed")
            hour = int(time.time()) // 3600 * 3600 - 6 * 3600  # closed long ago
            body = [
                {"hostId": host_id, "name": "m", "time": hour + 60 * i, "value": i}
                for i in range(60)
            ]
            ok(http.post("/api/v0/tsdb", json=body, headers={"X-Sabamon-Replay": "1"}))
            with psycopg.connect(fresh_pg_dsn, autocommit=True) as conn:

                def sealed() -> bool:
                    row = conn.execute("SELECT coalesce(sum(n), 0) FROM chunks").fetchone()
                    return row is not None and row[0] == 60

                wait_until(sealed, timeout=60, what="the hour sealed into a chunk")
                head = conn.execute("SELECT count(*) FROM points").fetchone()
                assert head == (0,)
            stored = series(http, host_id, "m", hour, hour + 3600)
            assert [(p["time"], p["value"]) for p in stored] == [
                (hour + 60 * i, i) for i in range(60)
            ]
            figures = http.get("/metrics").text
            points = re.search(r"^sabamon_sealed_points_total (\S+)$", figures, re.M)
            assert points is not None and float(points.group(1)) == 60
        server.stop(signal.SIGTERM)
        assert _gone(maintainer)  # stopped before the server exited

        again = ServerProcess(backend, env, log_file=tmp_path / "server.log")
        try:
            orphan = _maintainer(again)
            again.stop(signal.SIGKILL)
            wait_until(lambda: _gone(orphan), timeout=10, what="the orphan to exit")
        finally:
            again.close()
    finally:
        server.close()
    log = (tmp_path / "server.log").read_text()
    assert "event=maintainer_orphaned" in log and "maintenance=process" in log
