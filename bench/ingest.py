"""Ingest and read figures for a real `sabamon server` subprocess, SQLite and PostgreSQL,
or SQLite and VictoriaMetrics side by side (`--series-store`).

Load: several client processes, each with several threads holding one keep-alive
http.client connection, posting one host-minute (60 points) per request. Prints points/s
acknowledged (after commit, or after VictoriaMetrics' 2xx), p50/p95/p99 request latency,
the CPU of the server (and of VictoriaMetrics) apart from the load generator's, then the
median of 1-day, 1-week and 1-year reads of one metric, and bytes on disk per stored point.

    .venv/bin/python bench/ingest.py [--seconds 15] [--clients 4] [--connections 16] [--hosts 200]
        [--workers 1] [--pg URL] [--series-store victoria | URL] [--runs 1] [--baseline TREE]

`--baseline TREE` runs a second server from another work tree of sabamon (its `src`, e.g. a
`git worktree` of an older commit) after each run of this one, alternating, and prints the
medians of `--runs` runs of each with their ratio.

`--series-store victoria` starts a scratch VictoriaMetrics (Debian's `victoria-metrics`) on
loopback and runs SQLite, then SQLite metadata with the series in it; a URL uses a running
VictoriaMetrics instead (its CPU and disk are then not measured).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import multiprocessing
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil
import psycopg
import worktree  # this tree's code first

from sabamon.bench.victoria import VictoriaProcess

KEY = "bench-ingest-key-0123456789"
NAMES = [f"bench.metric.{index}" for index in range(60)]
NAME_FIELDS = [f'"name": {json.dumps(name)}' for name in NAMES]

ClientOutcome = tuple[int, list[float], float]
"""(points acknowledged, request latencies in s, CPU seconds) of one client process."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    data: Path,
    db: str | None,
    workers: int,
    series_store: str | None = None,
    tree: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """A `sabamon server` on a free port, from this tree or from `tree` (its `src`), with
    `env` added to its environment."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "sabamon.cli",
        "server",
        "--listen",
        f"127.0.0.1:{port}",
        "--data",
        str(data),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    if db:
        command += ["--db", db]
    if series_store:
        command += ["--series-store", series_store]
    child_env = worktree.child_env(tree, SABAMON_BOOTSTRAP_API_KEY=KEY, **(env or {}))
    server = subprocess.Popen(command, env=child_env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def minute_body(host_id: str, at: int, values: Sequence[int]) -> bytes:
    """One host-minute as `json.dumps` writes it: [{"hostId", "name", "time", "value"}] for
    each of NAMES with its value (ints), built from the names' fields written once; a fifth
    of `json.dumps`' CPU, which the load generator would take from the server it measures
    (they share the machine)."""
    head = f'{{"hostId": {json.dumps(host_id)}, '
    tail = f', "time": {at}, "value": '
    points = [
        f"{head}{name}{tail}{value}}}" for name, value in zip(NAME_FIELDS, values, strict=True)
    ]
    return f"[{', '.join(points)}]".encode()


def call(conn: http.client.HTTPConnection, method: str, path: str, body: object = None) -> bytes:
    """The response body of a 200; `body` is sent as JSON, or as it is when bytes."""
    payload = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    conn.request(method, path, payload, {"X-Api-Key": KEY, "Content-Type": "application/json"})
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
    return data


def post_minutes(
    port: int, host_ids: list[str], deadline: float, start_minute: int
) -> tuple[int, list[float]]:
    """One keep-alive connection posting host-minutes of 60 points until `deadline`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    points = 0
    minute = start_minute
    while time.monotonic() < deadline:
        for host_id in host_ids:
            body = minute_body(host_id, minute * 60, [minute % 97] * len(NAMES))
            started = time.perf_counter()
            call(conn, "POST", "/api/v0/tsdb", body)
            latencies.append(time.perf_counter() - started)
            points += len(NAMES)
        minute += 1
    return points, latencies


def client(
    port: int,
    host_ids: list[str],
    connections: int,
    seconds: float,
    start_minute: int,
    results: multiprocessing.Queue[ClientOutcome],
) -> None:
    """A load generator process: `connections` threads, each with its own connection and
    its share of the hosts (the threads mostly wait on the server)."""
    deadline = time.monotonic() + seconds
    shares = [host_ids[i::connections] for i in range(connections)]
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        outcomes = list(
            pool.map(lambda share: post_minutes(port, share, deadline, start_minute), shares)
        )
    usage = resource.getrusage(resource.RUSAGE_SELF)
    latencies = [latency for _, per_connection in outcomes for latency in per_connection]
    results.put((sum(o[0] for o in outcomes), latencies, usage.ru_utime + usage.ru_stime))


def server_cpu(pid: int) -> float:
    parent = psutil.Process(pid)
    total = 0.0
    for process in [parent, *parent.children(recursive=True)]:
        times = process.cpu_times()
        total += times.user + times.system
    return total


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


Figures = dict[str, float]
"""A run's figures by name: points, points_s, p50_ms, p99_ms, cpu_us, read_1d_ms, ..."""


def ingest(
    port: int, pid: int, args: argparse.Namespace, victoria: VictoriaProcess | None
) -> Figures:
    """Runs the load; returns its figures."""
    clients, hosts, seconds = args.clients, args.hosts, args.seconds
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    host_ids = [
        json.loads(call(conn, "POST", "/api/v0/hosts", {"name": f"h{i}"}))["id"]
        for i in range(hosts)
    ]
    start_minute = int(time.time()) // 60 - 20 * 60  # inside the 24 h window
    cpu_before = server_cpu(pid)
    victoria_before = victoria.cpu_seconds() if victoria else 0.0
    results: multiprocessing.Queue[ClientOutcome] = multiprocessing.Queue()
    share = [host_ids[i::clients] for i in range(clients)]
    procs = [
        multiprocessing.Process(
            target=client,
            args=(port, share[i], args.connections, seconds, start_minute, results),
        )
        for i in range(clients)
    ]
    started = time.monotonic()
    for proc in procs:
        proc.start()
    outcomes = [results.get() for _ in procs]
    elapsed = time.monotonic() - started
    for proc in procs:
        proc.join()
    points = sum(o[0] for o in outcomes)
    latencies = [lat for o in outcomes for lat in o[1]]
    print(
        f"  ingest: {points / elapsed:,.0f} points/s acknowledged "
        f"({len(latencies):,} requests of 60 points, {clients} client processes x "
        f"{args.connections} connections, {elapsed:.1f} s)"
    )
    print(
        f"  latency: p50 {percentile(latencies, 0.5) * 1000:.1f} ms, "
        f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, "
        f"p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
    )
    cpu = server_cpu(pid) - cpu_before
    print(
        f"  cpu: server {cpu:.1f} s ({cpu / max(points, 1) * 1e6:.1f} us per point), "
        f"load generator {sum(o[2] for o in outcomes):.1f} s, wall {elapsed:.1f} s"
    )
    if victoria is not None:
        used = victoria.cpu_seconds() - victoria_before
        print(
            f"  cpu: VictoriaMetrics {used:.1f} s ({used / max(points, 1) * 1e6:.1f} us per "
            f"point), {used / elapsed * 100:.0f}% of a core against the server's "
            f"{cpu / elapsed * 100:.0f}%"
        )
    return {
        "points": points,
        "points_s": points / elapsed,
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "cpu_us": cpu / max(points, 1) * 1e6,
    }


def reads(port: int, settle: float) -> Figures:
    """Times 1-day, 1-week and 1-year reads of one metric holding a day of 1-minute points
    (the API refuses older posts, so the year is sparse: these are lower bounds for full
    data); returns the points written and the medians in ms. `settle`: seconds to wait for
    them to be searchable."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    host_id = json.loads(call(conn, "POST", "/api/v0/hosts", {"name": "reader"}))["id"]
    now = int(time.time()) // 60 * 60
    batch = [
        {"hostId": host_id, "name": "read.metric", "time": now - 60 * i, "value": i % 50}
        for i in range(1, 1440)
    ]
    call(conn, "POST", "/api/v0/tsdb", batch)
    time.sleep(settle)
    timings: dict[str, list[float]] = {"1 day": [], "1 week": [], "1 year": []}
    for label, span in (("1 day", 86400), ("1 week", 7 * 86400), ("1 year", 365 * 86400)):
        for _ in range(30):
            started = time.perf_counter()
            call(
                conn,
                "GET",
                f"/api/v0/hosts/{host_id}/metrics?name=read.metric&from={now - span}&to={now}",
            )
            timings[label].append(time.perf_counter() - started)
    print(
        "  reads: "
        + ", ".join(
            f"{label} median {statistics.median(values) * 1000:.1f} ms"
            for label, values in timings.items()
        )
    )
    medians = {f"read_{label.replace(' ', '')}_ms": statistics.median(values) * 1000
               for label, values in timings.items()}  # fmt: skip
    return {"points": len(batch), **medians}


def bytes_on_disk(data: Path, db: str | None) -> int:
    if db is None:
        return sum(p.stat().st_size for p in data.glob("sabamon.db*"))
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        return int(row[0]) if row else 0


def stored_points(data: Path, db: str | None) -> int:
    """Rows in the `points` table: each is one stored 1-minute point."""
    if db is None:
        with sqlite3.connect(data / "sabamon.db") as conn:
            return int(conn.execute("SELECT count(*) FROM points").fetchone()[0])
    with psycopg.connect(db) as conn:
        row = conn.execute("SELECT count(*) FROM points").fetchone()
        return int(row[0]) if row else 0


def run(
    label: str,
    db: str | None,
    args: argparse.Namespace,
    series_store: str | None = None,
    tree: Path | None = None,
) -> Figures:
    print(f"{label}:", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        victoria = None
        if series_store == "victoria":
            victoria = VictoriaProcess(Path(tmp) / "victoria")
            victoria.start()
            series_store = victoria.url
        server, port = start_server(Path(tmp), db, args.workers, series_store, tree)
        try:
            before = bytes_on_disk(Path(tmp), db)
            figures = ingest(port, server.pid, args, victoria)
            read = reads(port, settle=2.0 if series_store else 0.0)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        acknowledged = int(figures["points"] + read.pop("points"))
        figures |= read
        if series_store:
            if victoria is not None:
                victoria.stop()  # flushes its buffers to disk
                grown = victoria.disk_bytes()
                print(
                    f"  disk: VictoriaMetrics {grown:,} bytes for {acknowledged:,} points, "
                    f"{grown / max(acknowledged, 1):.1f} bytes per point (samples and index)",
                    flush=True,
                )
            return figures
        # measured after shutdown, when SQLite has folded its WAL into the database file
        grown, points = bytes_on_disk(Path(tmp), db) - before, stored_points(Path(tmp), db)
        print(
            f"  disk: {grown:,} bytes grown for {points:,} stored points in the head, "
            f"{grown / max(points, 1):.1f} bytes per point (tables, indexes, rollups)",
            flush=True,
        )
        return figures


def scratch_database(pg: str) -> str:
    """A new empty PostgreSQL database beside `pg`'s; returns its URL."""
    name = f"sabamon_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return pg.rsplit("/", 1)[0] + f"/{name}"


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_backend(label: str, pg: str | None, args: argparse.Namespace) -> None:
    """`--runs` runs of this tree on one backend (PostgreSQL when `pg`), each followed by
    one of the `--baseline` tree when given; prints the medians and their ratios."""
    trees: dict[str, Path | None] = {"this tree": None}
    if args.baseline:
        trees["baseline"] = args.baseline
    runs: dict[str, list[Figures]] = {name: [] for name in trees}
    for number in range(args.runs):
        for name, tree in trees.items():
            db = scratch_database(pg) if pg else None
            try:
                figures = run(f"{label}, {name}, run {number + 1}", db, args, tree=tree)
            finally:
                if db:
                    drop_database(db)
            runs[name].append(figures)
    if args.runs == 1 and not args.baseline:
        return
    medians = {
        name: {key: statistics.median(f[key] for f in found) for key in found[0]}
        for name, found in runs.items()
    }
    for name, figures in medians.items():
        print(
            f"{label}, {name}, medians of {args.runs}: {figures['points_s']:,.0f} points/s, "
            f"p50 {figures['p50_ms']:.0f} ms, p99 {figures['p99_ms']:.0f} ms, "
            f"{figures['cpu_us']:.1f} us server CPU per point; reads "
            f"1 day {figures['read_1day_ms']:.1f} ms, 1 week {figures['read_1week_ms']:.1f} ms, "
            f"1 year {figures['read_1year_ms']:.1f} ms",
            flush=True,
        )
    if args.baseline:
        ratios = [
            new["points_s"] / old["points_s"]
            for new, old in zip(runs["this tree"], runs["baseline"], strict=True)
        ]
        new, old = medians["this tree"], medians["baseline"]
        print(
            f"{label}: this tree / baseline: points/s x{new['points_s'] / old['points_s']:.2f} "
            f"(per run {', '.join(f'{r:.2f}' for r in ratios)}), CPU per point "
            f"x{new['cpu_us'] / old['cpu_us']:.2f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4, help="load generator processes")
    parser.add_argument("--connections", type=int, default=16, help="per client process")
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--baseline", type=Path, help="another sabamon work tree to run beside this one"
    )
    parser.add_argument(
        "--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument(
        "--series-store",
        help="victoria (a scratch VictoriaMetrics) or a VictoriaMetrics URL: run SQLite and "
        "then SQLite metadata with the series there, instead of SQLite and PostgreSQL",
    )
    args = parser.parse_args()
    if args.series_store:
        run("SQLite", None, args)
        run("SQLite metadata, series in VictoriaMetrics", None, args, args.series_store)
        return
    if "sqlite" in args.backends:
        run_backend("SQLite", None, args)
    if "postgres" in args.backends:
        run_backend("PostgreSQL", args.pg, args)


if __name__ == "__main__":
    main()
