"""Wake-up latency of sabamon.mcond across two nodes on loopback, and broadcast cost.

Needs the Redis on 127.0.0.1:6379 (or --redis host:port). Prints medians of --runs.
Run: .venv/bin/python bench/mcond.py [--runs 50]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time
import uuid

import worktree  # noqa: F401  (this tree's code first)

from sabamon.mcond import MCond, MCondOption


def wake_latency(worker: MCond, waiter: MCond, key: str) -> float:
    """Seconds from the worker's add_completed to the waiter's return."""
    worker.add_processing(key)
    woke = threading.Event()
    finished_at = [0.0]

    def wait() -> None:
        waiter.wait_for_available(key, timeout=10)
        finished_at[0] = time.perf_counter()
        woke.set()

    thread = threading.Thread(target=wait)
    thread.start()
    threading.Event().wait(0.01)  # let the waiter block on its event
    started = time.perf_counter()
    worker.add_completed(key)
    worker.broadcast(key)
    woke.wait(10)
    thread.join()
    return finished_at[0] - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--redis", default="127.0.0.1:6379")
    args = parser.parse_args()
    settings = {"redis_host": args.redis, "addr": "127.0.0.1:0", "poll_interval": 30.0}
    key = f"bench-{uuid.uuid4().hex}"
    silent = socket.create_server(("127.0.0.1", 0))
    with MCond(MCondOption(**settings)) as worker, MCond(MCondOption(**settings)) as waiter:
        waiter.start()
        waiter.add_cond(key)
        worker.add_cond(key)
        worker.add_host(waiter.address)
        wakes = [wake_latency(worker, waiter, key) for _ in range(args.runs)]
        print(f"wake latency (add_completed+broadcast -> waiter returns), median of {args.runs}:")
        print(f"  {statistics.median(wakes) * 1e3:.2f} ms")
        broadcasts = []
        for _ in range(args.runs):
            started = time.perf_counter()
            worker.broadcast(key)
            broadcasts.append(time.perf_counter() - started)
        print(f"broadcast to 1 live peer: {statistics.median(broadcasts) * 1e3:.2f} ms")
        with MCond(MCondOption(**settings, peer_timeout=0.2)) as slow:
            slow.add_host(waiter.address)
            slow.add_host(f"127.0.0.1:{silent.getsockname()[1]}")
            started = time.perf_counter()
            slow.broadcast(key)
            elapsed = time.perf_counter() - started
            print(f"broadcast with a silent peer, timeout 0.2 s: {elapsed:.3f} s")
        worker.clear()
    silent.close()


if __name__ == "__main__":
    main()
