"""Fleet capacity of a fresh `sabamon server` on this machine, and its spin-up time.

Starts a server (SQLite in a scratch folder, or a fresh PostgreSQL database with --db),
drives it with `sabamon bench fleet` from separate processes and prints the table, the
server's CPU apart from the load generator's, and the spin-up figures.

    .venv/bin/python bench/fleet.py --hosts 20000 --metrics 60 --duration 180
    .venv/bin/python bench/fleet.py --hosts 40000 --workers 2 \
        --db postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from sabamon.bench.fleet import Fleet, FleetOptions
from sabamon.bench.report import table, write_json
from sabamon.bench.spinup import free_port, measure

API_KEY = "fleet-bench-" + uuid.uuid4().hex


@contextlib.contextmanager
def fresh_database(admin_url: str | None) -> Iterator[str | None]:
    """A new, empty PostgreSQL database beside `admin_url`'s, dropped at the end."""
    if admin_url is None:
        yield None
        return
    import psycopg

    name = f"sabamon_fleet_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def server(data_dir: Path, db_url: str | None, workers: int) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "sabamon.cli", "server", "--listen", f"127.0.0.1:{port}"]
    command += ["--data", str(data_dir), "--workers", str(workers), "--log-level", "warning"]
    if db_url:
        command += ["--db", db_url]
    env = {**os.environ, "SABAMON_BOOTSTRAP_API_KEY": API_KEY}
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.05)
        yield url
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            print("server: no exit 30 s after SIGTERM; killed", file=sys.stderr)
            process.kill()
            process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=20000)
    parser.add_argument("--metrics", type=int, default=60)
    parser.add_argument("--duration", type=float, default=180.0)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--warmup", type=float, default=0.0, help="seconds left out of figures")
    parser.add_argument("--ramp", action="store_true", help="add hosts until p99/errors trip")
    parser.add_argument("--ramp-factor", type=float, default=1.5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--db", help="a PostgreSQL URL; a fresh database is made beside it")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--spinup-runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="sabamon-fleet-") as scratch:
        with fresh_database(args.db) as db_url, server(Path(scratch), db_url, args.workers) as url:
            options = FleetOptions(
                url=url,
                apikey=API_KEY,
                hosts=args.hosts,
                metrics=args.metrics,
                duration=args.duration,
                warmup=args.warmup,
                time_scale=args.time_scale,
                processes=args.processes,
                ramp=args.ramp,
                ramp_factor=args.ramp_factor,
            )
            report = Fleet(options).run()
            backend = "PostgreSQL" if args.db else "SQLite"
            print(f"server: {args.workers} worker(s) on {backend}; load {os.getloadavg()}")
            print(table(report), flush=True)
            if args.json:
                write_json(report, args.json)
        if args.spinup_runs:
            spinup = measure(args.spinup_runs, args.workers, None, Path(scratch) / "spinup")
            print(spinup.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
