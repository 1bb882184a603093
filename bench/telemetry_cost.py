"""What prometheus_client's multiprocess mode costs on the ingest path.

Two `sabamon server` processes (SQLite, one worker each) take the same load in turns: one
keeps its /metrics figures in memory (one worker: the default), the other in
prometheus_client's multiprocess files (`PROMETHEUS_MULTIPROC_DIR`, as every worker of
`--workers N` does). Each round posts host-minutes of 60 points to one server for
`--seconds`, then to the other (the order alternates between rounds), from client
processes on keep-alive connections. Prints, per mode, the median over the rounds of the
points acknowledged per second and of the server's CPU time per 1,000 points, and the
ratios (multiprocess over in memory). Then, apart from the noise of a whole server, the
figures' own work for one such post (what `RequestCounter` and the tsdb route record),
timed in a fresh process per mode, in turns: the median microseconds per post.

    .venv/bin/python bench/telemetry_cost.py [--rounds 6] [--seconds 5] [--clients 2]
        [--connections 6]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
import worktree  # this tree's code first

KEY = "bench-telemetry-key-0123456789"
NAMES = [f"bench.metric.{index}" for index in range(60)]
MODES = ("in memory", "multiprocess")
RECORD_ONE_POST = """
import sys, time
from sabamon.server.telemetry import Telemetry
t = Telemetry()
posts = int(sys.argv[1])
started = time.perf_counter()
for _ in range(posts):  # what RequestCounter and POST /api/v0/tsdb record for one post
    t.in_flight.inc()
    t.write_latency.observe(0.002)
    t.points.labels("accepted").inc(60)
    t.points.labels("dropped_out_of_window").inc(0)
    t.in_flight.dec()
    t.requests.labels("POST", "/api/v0/tsdb", "200").inc()
    t.request_seconds.labels("POST", "/api/v0/tsdb").observe(0.003)
print((time.perf_counter() - started) / posts * 1e6)
"""


@dataclass
class Server:
    mode: str
    process: subprocess.Popen[bytes]
    port: int
    host_ids: list[str]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def call(conn: http.client.HTTPConnection, method: str, path: str, body: object) -> bytes:
    conn.request(
        method,
        path,
        json.dumps(body).encode(),
        {"X-Api-Key": KEY, "Content-Type": "application/json"},
    )
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: {response.status} {data[:200]!r}")
    return data


def start_server(mode: str, scratch: Path, hosts: int) -> Server:
    data = scratch / mode.replace(" ", "-")
    env = worktree.child_env(SABAMON_BOOTSTRAP_API_KEY=KEY)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if mode == "multiprocess":
        files = scratch / "prometheus"
        files.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(files)
    port = free_port()
    command = [sys.executable, "-m", "sabamon.cli", "server", "--listen", f"127.0.0.1:{port}"]
    command += ["--data", str(data), "--log-level", "warning", "--max-wait", "60"]  # no shedding
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                break
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"the {mode} server did not start") from None
            time.sleep(0.1)
        finally:
            conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    host_ids = [
        json.loads(call(conn, "POST", "/api/v0/hosts", {"name": f"h{i}", "meta": {}}))["id"]
        for i in range(hosts)
    ]
    conn.close()
    return Server(mode, process, port, host_ids)


def post_for(port: int, host_id: str, seconds: float, first_minute: int) -> int:
    """One keep-alive connection posting host-minutes of `host_id` for `seconds`; points
    acknowledged."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    deadline, points, minute = time.monotonic() + seconds, 0, first_minute
    try:
        while time.monotonic() < deadline:
            body = [
                {"hostId": host_id, "name": n, "time": minute * 60, "value": minute % 97}
                for n in NAMES
            ]
            call(conn, "POST", "/api/v0/tsdb", body)
            points += len(body)
            minute -= 1
    finally:
        conn.close()
    return points


def client(port: int, host_ids: list[str], seconds: float, first_minute: int) -> int:
    """One client process: a thread per host, each on its own connection."""
    with concurrent.futures.ThreadPoolExecutor(len(host_ids)) as threads:
        runs = [threads.submit(post_for, port, h, seconds, first_minute) for h in host_ids]
        return sum(run.result() for run in runs)


def load(
    server: Server, pool: concurrent.futures.ProcessPoolExecutor, args: argparse.Namespace,
    first_minute: int,
) -> tuple[float, float]:  # fmt: skip
    """(points/s, server CPU seconds per 1,000 points) of one round on `server`."""
    cpu = psutil.Process(server.process.pid)
    before = cpu.cpu_times()
    started = time.monotonic()
    shares = [server.host_ids[i :: args.clients] for i in range(args.clients)]  # own hosts
    runs = [pool.submit(client, server.port, hosts, args.seconds, first_minute) for hosts in shares]
    points = sum(run.result() for run in runs)
    elapsed = time.monotonic() - started
    after = cpu.cpu_times()
    used = after.user + after.system - before.user - before.system
    return points / elapsed, used / points * 1000


def figures_cost(mode: str, scratch: Path, posts: int) -> float:
    """Microseconds the figures of one post take in a fresh process of `mode`."""
    env = {k: v for k, v in worktree.child_env().items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    if mode == "multiprocess":
        files = Path(tempfile.mkdtemp(dir=scratch))
        env["PROMETHEUS_MULTIPROC_DIR"] = str(files)
    done = subprocess.run(
        [sys.executable, "-c", RECORD_ONE_POST, str(posts)],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stdout)


def line(mode: str, rate: float, cost: float) -> str:
    return f"{mode:>12}: {rate:9,.0f} points/s  {cost * 1000:6.1f} ms CPU per 1,000 points"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--connections", type=int, default=6, help="per client")
    args = parser.parse_args()
    figures: dict[str, list[tuple[float, float]]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="sabamon-telemetry-") as folder:
        scratch = Path(folder)
        hosts = args.clients * args.connections
        servers = [start_server(mode, scratch, hosts) for mode in MODES]
        try:
            with concurrent.futures.ProcessPoolExecutor(args.clients) as pool:
                now_minute = int(time.time()) // 60
                for number in range(args.rounds):
                    order = servers if number % 2 == 0 else servers[::-1]
                    for server in order:  # each round goes back in time: no overwrites
                        first = now_minute - number * (1380 // args.rounds)
                        figures[server.mode].append(load(server, pool, args, first))
                        print(
                            f"round {number + 1} {line(server.mode, *figures[server.mode][-1])}",
                            flush=True,
                        )
            files = list((scratch / "prometheus").glob("*.db"))
            assert files, "the multiprocess server wrote no prometheus_client files"
        finally:
            for server in servers:
                server.process.terminate()
                server.process.wait(30)
    medians = {
        mode: (statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs))
        for mode, runs in figures.items()
    }
    for mode, (rate, cost) in medians.items():
        print(f"median {line(mode, rate, cost)}")
    (memory_rate, memory_cost), (files_rate, files_cost) = medians.values()
    print(f"multiprocess / in memory: points/s x{files_rate / memory_rate:.3f}, "
          f"CPU per point x{files_cost / memory_cost:.3f}")  # fmt: skip
    cost: dict[str, list[float]] = {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory(prefix="sabamon-telemetry-") as folder:
        for number in range(args.rounds):
            for mode in MODES if number % 2 == 0 else MODES[::-1]:
                cost[mode].append(figures_cost(mode, Path(folder), 20_000))
    memory, files = (statistics.median(cost[mode]) for mode in MODES)
    print(f"the figures of one post (60 points): in memory {memory:.1f} µs, multiprocess "
          f"{files:.1f} µs: {(files - memory) / 60 * 1000:.0f} ns more per point")  # fmt: skip


if __name__ == "__main__":
    main()
