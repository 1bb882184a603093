"""Sustained ingest: a large load posted through the API in minute order, acknowledged after
commit, for a real `sabamon server` subprocess (SQLite or PostgreSQL), optionally beside the
same load on a server from another work tree (`--baseline`, e.g. a `git worktree` of the
commit before the head/chunk layout).

Load: --hosts hosts, each posting host-minutes of 60 points (one request each) from
--clients processes × --connections keep-alive connections, minute after minute, for
enough minutes to make --points points. Two kinds:

- a backlog (the default): the minutes lie in the past (the post says it replays a
  backlog, `X-Sabamon-Replay: 1`) and are posted as fast as the server takes them, so
  the server's maintenance (every 60 s) seals closed hours that are still being written:
  the worst case, as after an outage of the whole fleet;
- `--live RATE`: a fleet posting as agents do, each minute once that minute has ended on
  the server's clock, which runs fast enough (`SABAMON_CLOCK_SCALE`, RATE / hosts) for the
  fleet's minutes to come at RATE points/s; maintenance runs every minute of that clock
  and seals each hour after it closes. The server keeps up when the load ends on time;
  the figures say how far behind its schedule it ended.

Prints every --every seconds the points/s of that interval, then the whole load's
points/s, the first and last tenth's, and the server's CPU per point (its processes,
maintenance included; the database's own CPU is not counted).

    .venv/bin/python bench/sustained.py [--points 20000000] [--hosts 240] [--live RATE]
        [--backends sqlite postgres] [--baseline TREE] [--baseline-points N] [--pg URL]
        [--workers 1]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import json
import multiprocessing
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import worktree  # noqa: F401  (this tree's code first)
from ingest import (
    KEY,
    NAMES,
    call,
    drop_database,
    minute_body,
    scratch_database,
    server_cpu,
    start_server,
)

REPLAY = {"X-Sabamon-Replay": "1"}


@dataclass(frozen=True)
class Clock:
    """The server's clock under `--live`: `scale` times faster than real time from `anchor`
    (epoch seconds), as `SABAMON_CLOCK_SCALE` and `SABAMON_CLOCK_ANCHOR` make it."""

    anchor: float
    scale: float

    def now(self) -> float:
        return self.anchor + (time.time() - self.anchor) * self.scale

    def due(self, minute: int) -> float:
        """The real time at which `minute` (epoch minutes) has ended on this clock."""
        return self.anchor + ((minute + 1) * 60 - self.anchor) / self.scale


def post_hosts(
    port: int,
    host_ids: list[str],
    first: int,
    minutes: int,
    done: Synchronized[int],
    shed: Synchronized[int],
    clock: Clock | None,
) -> None:
    """One keep-alive connection posting its hosts' minutes in order, counting the points
    acknowledged into `done` and the posts shed (503) into `shed`; with a `clock`, each
    minute once it has ended, else as a replayed backlog."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"X-Api-Key": KEY, "Content-Type": "application/json"}
    if clock is None:
        headers.update(REPLAY)
    for minute in range(first, first + minutes):
        if clock is not None:
            time.sleep(max(0.0, clock.due(minute) - time.time()))
        for host_id in host_ids:
            values = [(minute * 7 + i) % 101 for i in range(len(NAMES))]
            payload = minute_body(host_id, minute * 60, values)
            while True:  # a shed post (503) is retried after Retry-After, as agents do
                try:
                    conn.request("POST", "/api/v0/tsdb", payload, headers)
                    response = conn.getresponse()
                    data = response.read()
                except ConnectionError:  # the server closes a connection it shed
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    continue
                if response.status != 503:
                    break
                with shed.get_lock():
                    shed.value += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                time.sleep(float(response.headers.get("Retry-After", "1")))
            if response.status != 200:
                raise RuntimeError(f"POST /api/v0/tsdb: {response.status} {data[:200]!r}")
            with done.get_lock():
                done.value += len(NAMES)


def client(
    port: int,
    host_ids: list[str],
    connections: int,
    first: int,
    minutes: int,
    done: Synchronized[int],
    shed: Synchronized[int],
    clock: Clock | None,
) -> None:
    shares = [host_ids[i::connections] for i in range(connections)]
    with concurrent.futures.ThreadPoolExecutor(connections) as pool:
        for future in [
            pool.submit(post_hosts, port, share, first, minutes, done, shed, clock)
            for share in shares
        ]:
            future.result()


def load(
    label: str, db: str | None, tree: Path | None, points: int, args: argparse.Namespace
) -> dict[str, float]:
    """Runs the load on a fresh server; returns points/s overall, of the first and last
    tenth, and server CPU µs per point."""
    minutes = max(1, points // (args.hosts * len(NAMES)))
    total = minutes * args.hosts * len(NAMES)
    print(f"{label}: {total:,} points ({args.hosts} hosts x 60 x {minutes} min)", flush=True)
    clock, env = None, {}
    if args.live:
        clock = Clock(time.time(), args.live / args.hosts)
        env = {"SABAMON_CLOCK_SCALE": str(clock.scale), "SABAMON_CLOCK_ANCHOR": str(clock.anchor)}
        print(f"  live at {args.live:,.0f} points/s: the server's clock x{clock.scale:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        server, port = start_server(Path(tmp), db, args.workers, tree=tree, env=env)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            host_ids = [
                json.loads(call(conn, "POST", "/api/v0/hosts", {"name": f"h{i}"}))["id"]
                for i in range(args.hosts)
            ]
            if clock is None:
                first = int(time.time()) // 3600 * 60 - minutes - 120
            else:
                first = int(clock.now()) // 60 + 1
            done: Synchronized[int] = multiprocessing.Value("q", 0)  # type: ignore[assignment]
            shed: Synchronized[int] = multiprocessing.Value("q", 0)  # type: ignore[assignment]
            share = [host_ids[i :: args.clients] for i in range(args.clients)]
            procs = [
                multiprocessing.Process(
                    target=client,
                    args=(port, share[i], args.connections, first, minutes, done, shed, clock),
                )
                for i in range(args.clients)
            ]
            cpu_start, started = server_cpu(server.pid), time.monotonic()
            samples: list[tuple[float, int, float]] = [(started, 0, cpu_start)]
            for proc in procs:
                proc.start()
            finished = threading.Event()
            threading.Thread(
                target=lambda: ([p.join() for p in procs], finished.set()), daemon=True
            ).start()
            while not finished.wait(args.every):
                samples.append((time.monotonic(), done.value, server_cpu(server.pid)))
                (t0, n0, c0), (t1, n1, c1) = samples[-2:]
                print(
                    f"  {t1 - started:6.0f} s {n1:>12,} points: {(n1 - n0) / (t1 - t0):>8,.0f} "
                    f"points/s, {(c1 - c0) / max(n1 - n0, 1) * 1e6:5.1f} us CPU/point",
                    flush=True,
                )
            samples.append((time.monotonic(), done.value, server_cpu(server.pid)))
            behind = 0.0 if clock is None else time.time() - clock.due(first + minutes - 1)
            if any(proc.exitcode for proc in procs):
                raise SystemExit(f"{label}: a load generator failed")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
    elapsed, cpu = samples[-1][0] - started, samples[-1][2] - cpu_start

    def rate(low: float, high: float) -> float:
        """Points/s from the last sample before `low` of the load was done to the first
        after `high` was (samples every --every seconds)."""
        a = [s for s in samples if s[1] <= low * total][-1]
        b = next(s for s in samples if s[1] >= high * total)
        return (b[1] - a[1]) / max(b[0] - a[0], 1e-9)

    figures = {
        "shed": float(shed.value),
        "points_s": total / elapsed,
        "first_tenth": rate(0, 0.1),
        "last_tenth": rate(0.9, 1.0),
        "cpu_us": cpu / total * 1e6,
        "behind_s": behind,
    }
    print(
        f"{label}: {figures['points_s']:,.0f} points/s over {total:,} points "
        f"({elapsed:.0f} s); first tenth {figures['first_tenth']:,.0f}, last tenth "
        f"{figures['last_tenth']:,.0f} points/s; server CPU {figures['cpu_us']:.1f} us "
        f"per point; {figures['shed']:,.0f} posts shed (503) and retried",
        flush=True,
    )
    if clock is not None:
        print(
            f"{label}: live at {args.live:,.0f} points/s, ended {behind:.1f} s behind its "
            f"schedule ({behind * clock.scale / 60:.1f} minutes of the server's clock)",
            flush=True,
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", type=int, default=20_000_000)
    parser.add_argument("--hosts", type=int, default=240)
    parser.add_argument("--clients", type=int, default=4, help="load generator processes")
    parser.add_argument("--connections", type=int, default=8, help="per client process")
    parser.add_argument("--every", type=float, default=30, help="seconds between progress lines")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument(
        "--live",
        type=float,
        metavar="RATE",
        help="post as a live fleet at RATE points/s (default: a backlog, as fast as taken)",
    )
    parser.add_argument(
        "--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--baseline", type=Path, help="another sabamon work tree, run after")
    parser.add_argument(
        "--baseline-points", type=int, help="points for the baseline (default --points)"
    )
    args = parser.parse_args()
    for backend in args.backends:
        label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}[backend]
        runs = [("this tree", None, args.points)]
        if args.baseline:
            runs.append(("baseline", args.baseline, args.baseline_points or args.points))
        found = {}
        for name, tree, points in runs:
            db = scratch_database(args.pg) if backend == "postgres" else None
            try:
                found[name] = load(f"{label}, {name}", db, tree, points, args)
            finally:
                if db:
                    drop_database(db)
        if len(found) == 2:
            new, old = found["this tree"], found["baseline"]
            print(
                f"{label}: this tree / baseline: points/s x"
                f"{new['points_s'] / old['points_s']:.2f}, last tenth x"
                f"{new['last_tenth'] / old['last_tenth']:.2f}, CPU per point x"
                f"{new['cpu_us'] / old['cpu_us']:.2f} (the baseline over its own points)",
                flush=True,
            )


if __name__ == "__main__":
    main()
