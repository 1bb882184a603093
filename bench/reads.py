"""Read latencies through the API with the data sealed, on SQLite and PostgreSQL.

One metric of one host holds a year of one-minute points (a load-average-like walk with 2
decimals), posted through the API as a replayed backlog (`X-Sabamon-Replay: 1`, a day per
request); the server is stopped, the compactor seals every closed window in-process as the
server's maintenance does (hour chunks, then day chunks with their hourly sums), and a
server started again on the sealed data answers `GET /api/v0/hosts/<id>/metrics` over HTTP
on a keep-alive connection. Prints the median and p90 of --repeats reads per span, with the
step the API chose and the points answered: 20 h (1-minute points), 1 day and 1 week
(5-minute averages), 1 year (daily averages from the hourly sums). On PostgreSQL they are
timed again after a VACUUM ANALYZE of the tables: sealing deletes the head's rows, and until
a VACUUM has removed them a read of a long span walks their dead index entries (the
compactor runs one on the head once it has sealed; a baseline tree may not).

    .venv/bin/python bench/reads.py [--repeats 30] [--rounds 1] [--baseline TREE]
        [--backends sqlite postgres] [--pg URL]

With --baseline the servers of this tree and of TREE take turns on the same data, --rounds
times each, and the ratios of the medians are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import signal
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
import worktree  # noqa: F401  (this tree's code first)
from ingest import KEY, call, drop_database, scratch_database, start_server

from sabamon.server.store import open_store
from sabamon.server.store.ops import Query, single

DAY, YEAR = 86400, 365 * 86400
SPANS = {"20 h": 20 * 3600, "1 day": DAY, "1 week": 7 * DAY, "1 year": YEAR}


def post_year(port: int, end: int) -> str:
    """Registers a host and posts a year of one-minute points ending before `end`; returns
    the host id."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    host_id: str = json.loads(call(conn, "POST", "/api/v0/hosts", {"name": "reader"}))["id"]
    values = np.round(np.abs(np.cumsum(np.random.default_rng(0).normal(0, 0.05, YEAR // 60))), 2)
    headers = {"X-Api-Key": KEY, "Content-Type": "application/json", "X-Sabamon-Replay": "1"}
    start = end - YEAR
    for day in range(365):
        times = range(start + day * DAY, start + (day + 1) * DAY, 60)
        body = [
            {"hostId": host_id, "name": "loadavg5", "time": t, "value": float(values[i])}
            for i, t in enumerate(times, (day * DAY) // 60)
        ]
        conn.request("POST", "/api/v0/tsdb", json.dumps(body).encode(), headers)
        response = conn.getresponse()
        if response.status != 200:
            raise SystemExit(f"posting day {day}: {response.status} {response.read()[:200]!r}")
        response.read()
    return host_id


async def seal(db: str | None, data: Path, now: int) -> tuple[int, int]:
    """Runs the compactor until nothing is due; returns (points sealed, left in the head)."""
    store = open_store(db, data)
    await store.open()
    try:
        sealed = await store.series.compact(now)
        rows = await store.backend.read(single(Query("SELECT count(*) FROM points")))
        return sealed, int(rows[0][0])
    finally:
        await store.close()


def time_reads(port: int, host_id: str, end: int, repeats: int) -> dict[str, list[float]]:
    """{span: [ms of each read]} of reads ending at `end`; the step and points answered
    are kept in `ANSWERS`."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    out: dict[str, list[float]] = {}
    for label, span in SPANS.items():
        path = f"/api/v0/hosts/{host_id}/metrics?name=loadavg5&from={end - span}&to={end - 60}"
        timings, answer = [], []
        for _ in range(repeats + 1):  # the first read warms the connection and the caches
            started = time.perf_counter()
            answer = json.loads(call(conn, "GET", path))["metrics"]
            timings.append((time.perf_counter() - started) * 1000)
        step = answer[1]["time"] - answer[0]["time"] if len(answer) > 1 else 0
        ANSWERS[label] = (step, len(answer))
        out[label] = timings[1:]
    return out


ANSWERS: dict[str, tuple[int, int]] = {}
"""{span: (step s, points)} of the last read of each span."""


def timed_trees(
    data: Path, db: str | None, host_id: str, end: int, args: argparse.Namespace
) -> dict[str, dict[str, list[float]]]:
    """{tree: {span: [ms]}}: `--rounds` rounds, each starting a server of this tree and then
    one of the `--baseline` tree (when given) on the same data."""
    trees: dict[str, Path | None] = {"this tree": None}
    if args.baseline:
        trees["baseline"] = args.baseline
    found: dict[str, dict[str, list[float]]] = {name: {} for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            server, port = start_server(data, db, 1, tree=tree)
            try:
                for span, timings in time_reads(port, host_id, end, args.repeats).items():
                    found[name].setdefault(span, []).extend(timings)
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(60)
    return found


def run(label: str, db: str | None, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        end = (int(time.time()) // 3600 - 1) * 3600  # every hour before it is closed
        server, port = start_server(data, db, 1)
        try:
            host_id = post_year(port, end)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(60)
        cpu = time.process_time()
        sealed, head = asyncio.run(seal(db, data, int(time.time())))
        cpu = time.process_time() - cpu
        found = {"just sealed": timed_trees(data, db, host_id, end, args)}
        if db:  # the head's deleted rows, until autovacuum (a minute or so) removes them
            with psycopg.connect(db, autocommit=True) as conn:
                conn.execute("VACUUM ANALYZE points, head_windows, chunks")
            found["after VACUUM"] = timed_trees(data, db, host_id, end, args)
    print(
        f"{label}: {sealed:,} points sealed ({cpu:.1f} s CPU), {head:,} left in the head; "
        f"reads over HTTP, median / p90 of {args.rounds} x {args.repeats}:",
        flush=True,
    )
    for when, trees in found.items():
        for span in SPANS:
            step, points = ANSWERS[span]
            medians = {name: statistics.median(spans[span]) for name, spans in trees.items()}
            cells = [
                f"{name} {statistics.median(spans[span]):6.1f} / "
                f"{sorted(spans[span])[int(0.9 * (len(spans[span]) - 1))]:6.1f} ms"
                for name, spans in trees.items()
            ]
            if "baseline" in medians:
                cells.append(f"ratio {medians['this tree'] / medians['baseline']:.2f}")
            print(
                f"  {when}, {span:>6}: {'; '.join(cells)}  ({points:,} points, step {step} s)",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=1, help="servers started per tree")
    parser.add_argument(
        "--baseline", type=Path, help="a tree (with `src`) timed alternately on the same data"
    )
    parser.add_argument(
        "--backends", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"]
    )
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for backend in args.backends:
        if backend == "sqlite":
            run("SQLite", None, args)
            continue
        db = scratch_database(args.pg)
        try:
            run("PostgreSQL", db, args)
        finally:
            drop_database(db)


if __name__ == "__main__":
    main()
