"""A 3-day outage, simulated with an injected clock: points collected, stored and missing.

The agent's collector runs real plugin subprocesses once a simulated minute for three days
(two healthy plugins, a garbage one printing names and values the API refuses beside one
good line, and a flooding one printing 20,000 distinct names a run, capped by `max_values`)
and spools each batch while the server is unreachable. Then a real sabamon server on
loopback (SQLite; its clock at the end of the outage) comes back and the agent's poster
drains the backlog, with the replay header for points older than 24 h. Every point that
was collected and not evicted by the spool's bound must be stored: missing == evicted.

Run: .venv/bin/python bench/outage.py [--days 3] [--spool-mb 8] [--step 1]
     (about ten minutes on a quiet two-core machine)
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "agent"))
from outage import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=3.0)
    parser.add_argument("--spool-mb", type=float, default=8.0, help="the spool's bound")
    parser.add_argument("--step", type=int, default=1, help="simulated minutes per collection")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the drops are logged per plugin; not here
    minutes = int(args.days * 24 * 60)
    with tempfile.TemporaryDirectory() as folder:
        figures = simulate(
            minutes,
            Path(folder),
            step=args.step,
            spool_bytes=int(args.spool_mb * 2**20),
            progress=lambda line: print(line, file=sys.stderr, flush=True),
        )
    print(f"outage: {args.days:g} days, one collection every {args.step} simulated minute(s)")
    print(f"spool bound: {args.spool_mb:g} MiB")
    print(f"points collected (spooled):        {figures.collected}")
    print(f"points stored on the server:       {figures.stored}")
    print(f"points missing:                    {figures.missing}")
    print(
        f"points evicted by the spool bound: {figures.evicted_points}"
        f" ({figures.evicted_batches} batches, oldest first, counted)"
    )
    print(f"garbage lines dropped by the agent before spooling: {figures.dropped_by_plugins}")
    print(f"missing == evicted: {figures.missing == figures.evicted_points}")
    print(f"seconds: collect {figures.seconds['collect']:.0f}, post {figures.seconds['post']:.0f}")


if __name__ == "__main__":
    main()
