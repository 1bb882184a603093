"""Fleet capacity of a fresh `sabamon server` on this machine, and its spin-up time.

Starts a server (SQLite in a scratch folder, or a fresh PostgreSQL database with --db),
drives it with `sabamon bench fleet` from separate processes and prints the table, the
server's CPU apart from the load generator's, and the spin-up figures.

    .venv/bin/python bench/fleet.py --hosts 20000 --metrics 60 --duration 180
    .venv/bin/python bench/fleet.py --hosts 40000 --workers 2 \
        --db postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/fleet.py --hosts 4000 --time-scale 10 --workers 2 \
        --db postgresql://postgres@127.0.0.1:5432/test --series-store victoria --compare-sqlite

`--series-store victoria` starts a scratch VictoriaMetrics (Debian's `victoria-metrics`) on
loopback for the series and prints its CPU beside the table; `--compare-sqlite` first runs
the same load against one worker on SQLite, in the same run.
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
import worktree  # this tree's code first

from sabamon.bench.fleet import Fleet, FleetOptions
from sabamon.bench.report import table, write_json
from sabamon.bench.spinup import free_port, measure
from sabamon.bench.victoria import VictoriaProcess

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
def server(
    data_dir: Path, db_url: str | None, workers: int, series_store: str | None = None
) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "sabamon.cli", "server", "--listen", f"127.0.0.1:{port}"]
    command += ["--data", str(data_dir), "--workers", str(workers), "--log-level", "warning"]
    if db_url:
        command += ["--db", db_url]
    if series_store:
        command += ["--series-store", series_store]
    env = worktree.child_env(SABAMON_BOOTSTRAP_API_KEY=API_KEY)
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


@contextlib.contextmanager
def series_store(value: str | None, scratch: Path) -> Iterator[VictoriaProcess | str | None]:
    """A scratch VictoriaMetrics for "victoria", else the value as given."""
    if value != "victoria":
        yield value
        return
    victoria = VictoriaProcess(scratch / "victoria")
    victoria.start()
    try:
        yield victoria
    finally:
        victoria.stop()


def run_fleet(args: argparse.Namespace, db: str | None, workers: int, series: str | None) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="sabamon-fleet-") as scratch,
        series_store(series, Path(scratch)) as victoria,
    ):
        url_of_series = victoria.url if isinstance(victoria, VictoriaProcess) else victoria
        with (
            fresh_database(db) as db_url,
            server(Path(scratch) / "data", db_url, workers, url_of_series) as url,
        ):
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
            cpu_before = victoria.cpu_seconds() if isinstance(victoria, VictoriaProcess) else 0
            started = time.monotonic()
            report = Fleet(options).run()
            elapsed = time.monotonic() - started
            backend = "PostgreSQL" if db else "SQLite"
            where = f", series in {url_of_series}" if url_of_series else ""
            print(f"server: {workers} worker(s) on {backend}{where}; load {os.getloadavg()}")
            print(table(report), flush=True)
            if isinstance(victoria, VictoriaProcess):
                used = victoria.cpu_seconds() - cpu_before
                print(
                    f"VictoriaMetrics: {used:.1f} s CPU over {elapsed:.0f} s, "
                    f"{used / elapsed * 100:.0f}% of a core (registration and warm-up included)"
                )
            if args.json:
                write_json(report, args.json)
        if args.spinup_runs:
            spinup = measure(args.spinup_runs, workers, None, Path(scratch) / "spinup")
            print(spinup.table())


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
    parser.add_argument(
        "--series-store", help="victoria (a scratch VictoriaMetrics) or a VictoriaMetrics URL"
    )
    parser.add_argument(
        "--compare-sqlite", action="store_true", help="first the same load on SQLite, 1 worker"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--spinup-runs", type=int, default=5)
    args = parser.parse_args()

    if args.compare_sqlite:
        run_fleet(args, None, 1, None)
    run_fleet(args, args.db, args.workers, args.series_store)
    return 0


if __name__ == "__main__":
    sys.exit(main())
