"""Good agents against hostile peers: a real `sabamon server` (SQLite) on loopback, one
attack at a time, while a good agent posts a host-minute of 10 points 100 times a second.

For each attack it prints the good posts attempted and acknowledged (200), their p99
latency during the attack, and the server's RSS (all its processes) before and after.

    .venv/bin/python bench/abuse.py [--seconds 15] [--rate 100]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import http.client
import json
import multiprocessing
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.synchronize import Event as EventType
from pathlib import Path

import psutil
import worktree  # this tree's code first

KEY = "bench-abuse-key-0123456789abcdef"
Stop = threading.Event | EventType


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(data: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, "-m", "sabamon.cli", "server", "--listen", f"127.0.0.1:{port}"]
    command += ["--data", str(data), "--log-level", "error"]
    env = worktree.child_env(SABAMON_BOOTSTRAP_API_KEY=KEY)
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
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


def rss_mib(pid: int) -> float:
    process = psutil.Process(pid)
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        total += child.memory_info().rss
    return total / 2**20


def request(port: int, method: str, path: str, body: object, timeout: float = 10) -> int:
    """One request on a new connection; the status, or 0 when the transport failed."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        conn.request(method, path, payload, {"X-Api-Key": KEY, "Content-Type": "application/json"})
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return 0


def good_agent(port: int, host_id: str, rate: float, stop: Stop) -> tuple[int, int, list[float]]:
    """Posts at `rate` per second on one keep-alive connection until `stop`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    attempted = succeeded = 0
    latencies: list[float] = []
    start = time.monotonic()
    while not stop.is_set():
        now = int(time.time())
        body = [
            {"hostId": host_id, "name": f"good.m{i}", "time": now, "value": i} for i in range(10)
        ]
        attempted += 1
        began = time.perf_counter()
        try:
            conn.request("POST", "/api/v0/tsdb", json.dumps(body).encode(),
                         {"X-Api-Key": KEY, "Content-Type": "application/json"})  # fmt: skip
            response = conn.getresponse()
            response.read()
            succeeded += response.status == 200
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        latencies.append(time.perf_counter() - began)
        pause = start + attempted / rate - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    return attempted, succeeded, latencies


def connect_from(source: str, port: int) -> socket.socket | None:
    sock = socket.socket()
    try:
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        return sock
    except OSError:
        sock.close()
        return None


Attack = Callable[[int, Stop], None]


def hold_until(stop: Stop, sockets: list[socket.socket | None]) -> None:
    stop.wait()
    for sock in sockets:
        if sock is not None:
            sock.close()


def stalled_bodies(port: int, stop: Stop) -> None:
    """50 connections that send a POST's headers (Content-Length: 100) and no body."""
    sockets = [connect_from("127.0.0.2", port) for _ in range(50)]
    for sock in sockets:
        if sock is not None:
            sock.sendall(b"POST /api/v0/hosts HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
    hold_until(stop, sockets)


def slowloris(port: int, stop: Stop) -> None:
    """2,000 connections from 8 addresses that start a request's headers and stop,
    opened again every 5 s."""
    sockets: list[socket.socket | None] = []
    while not stop.is_set():
        for index in range(2000):
            sock = connect_from(f"127.0.0.{10 + index % 8}", port)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.sendall(b"GET / HTTP/1.1\r\nX-a: ")
            sockets.append(sock)
        stop.wait(5)
    hold_until(stop, sockets)


def one_address_flood(port: int, stop: Stop) -> None:
    """1,000 idle connections from one address."""
    hold_until(stop, [connect_from("127.0.0.3", port) for _ in range(1000)])


def huge_documents(port: int, stop: Stop) -> None:
    """Hosts with a 7 MiB meta and with meta nested 300 deep, posted in a loop."""
    deep: object = "leaf"
    for _ in range(300):
        deep = [deep]
    bodies = [
        {"name": "huge", "meta": {"blob": "x" * 7 * 2**20}},
        {"name": "deep", "meta": {"d": deep}},
    ]
    index = 0
    while not stop.is_set():
        request(port, "POST", "/api/v0/hosts", bodies[index % 2])
        index += 1


def cardinality_burst(port: int, stop: Stop) -> None:
    """5 posts of 80,000 new metric names each for one host (each under 8 MiB)."""
    host = request_json(port, "POST", "/api/v0/hosts", {"name": "burst", "meta": {}})["id"]
    now = int(time.time())
    for batch in range(5):
        if stop.is_set():
            return
        body = [{"hostId": host, "name": f"burst.b{batch}.m{i}", "time": now, "value": 1}
                for i in range(80_000)]  # fmt: skip
        request(port, "POST", "/api/v0/tsdb", body, timeout=60)
    stop.wait()


def request_json(port: int, method: str, path: str, body: object) -> dict[str, object]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(method, path, json.dumps(body).encode(),
                 {"X-Api-Key": KEY, "Content-Type": "application/json"})  # fmt: skip
    answer: dict[str, object] = json.loads(conn.getresponse().read())
    return answer


ATTACKS: dict[str, Attack] = {
    "stalled bodies (50)": stalled_bodies,
    "slowloris (2,000 connections)": slowloris,
    "one address, 1,000 connections": one_address_flood,
    "7 MiB and 300-deep host meta": huge_documents,
    "cardinality burst (5 x 80,000 names)": cardinality_burst,
}


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=float, default=100, help="good posts per second")
    parser.add_argument(
        "--attack", action="append", choices=list(ATTACKS), help="run only these (repeatable)"
    )
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print(f"{'attack':40} {'good posts':>12} {'ok %':>7} {'p99 ms':>8} {'RSS MiB':>15}")
    for name, attack in ATTACKS.items():
        if args.attack and name not in args.attack:
            continue
        with tempfile.TemporaryDirectory() as data:
            server, port = start_server(Path(data))
            try:
                host_id = str(
                    request_json(port, "POST", "/api/v0/hosts", {"name": "good", "meta": {}})["id"]
                )
                before = rss_mib(server.pid)
                stop = multiprocessing.Event()  # the attacker is its own process: no GIL shared
                attacker = multiprocessing.Process(target=attack, args=(port, stop), daemon=True)
                attacker.start()
                time.sleep(0.5)  # the attack takes hold before the good agent starts
                with concurrent.futures.ThreadPoolExecutor(1) as pool:
                    agent = pool.submit(good_agent, port, host_id, args.rate, stop)
                    time.sleep(args.seconds)
                    after = rss_mib(server.pid)
                    stop.set()
                    attempted, succeeded, latencies = agent.result()
                attacker.join(timeout=30)
                attacker.kill()
                print(
                    f"{name:40} {succeeded:>5}/{attempted:<6} {100 * succeeded / attempted:>7.2f}"
                    f" {1000 * percentile(latencies, 0.99):>8.1f} {before:>6.0f} → {after:<6.0f}",
                    flush=True,
                )
            finally:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    main()
