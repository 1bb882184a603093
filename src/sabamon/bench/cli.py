"""`sabamon bench fleet` and `sabamon bench spinup`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from sabamon.bench.fleet import Fleet, FleetError, FleetOptions, Progress
from sabamon.bench.register import RegistrationError
from sabamon.bench.results import Thresholds
from sabamon.bench.spinup import SpinupError, measure

BAR_WIDTH = 30


class ProgressBar:
    """One line on stderr, redrawn in place; silent when stderr is not a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        done = int(BAR_WIDTH * progress.elapsed / progress.duration)
        bar = "#" * done + "-" * (BAR_WIDTH - done)
        self.stream.write(
            f"\rstep {progress.step + 1} [{bar}] {progress.elapsed:5.0f}/{progress.duration:g} s "
            f"hosts {progress.hosts} requests {progress.requests} errors {progress.errors} "
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")


def fleet_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sabamon bench fleet", description="load-test a server with simulated agents"
    )
    parser.add_argument("--url", required=True, help="the server, e.g. http://127.0.0.1:8080")
    parser.add_argument("--apikey", required=True, help="a write API key")
    parser.add_argument("--hosts", type=int, required=True, help="hosts (the first step's)")
    parser.add_argument("--metrics", type=int, required=True, help="metrics a host")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between posts")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds a step")
    parser.add_argument(
        "--warmup", type=float, default=0.0, help="seconds a step left out of the figures"
    )
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="simulated seconds per real second"
    )
    parser.add_argument("--checks", action="store_true", help="also send check reports")
    parser.add_argument("--ramp", action="store_true", help="add hosts until p99/errors trip")
    parser.add_argument("--ramp-factor", type=float, default=1.5)
    parser.add_argument("--max-hosts", type=int, default=1_000_000)
    parser.add_argument("--max-p99", type=float, default=1.0, help="seconds")
    parser.add_argument("--max-error-rate", type=float, default=0.001)
    parser.add_argument("--processes", type=int, default=4, help="load-generator processes")
    parser.add_argument("--connections", type=int, default=32, help="per process")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a request")
    parser.add_argument("--json", type=Path, help="write the result as JSON here")
    parser.add_argument("--html", type=Path, help="write the result as an HTML page here")
    return parser


def run_fleet(argv: list[str]) -> int:
    from sabamon.bench.html import write_html
    from sabamon.bench.report import table, write_json

    args = fleet_parser().parse_args(argv)
    options = FleetOptions(
        url=args.url,
        apikey=args.apikey,
        hosts=args.hosts,
        metrics=args.metrics,
        interval=args.interval,
        duration=args.duration,
        warmup=args.warmup,
        time_scale=args.time_scale,
        checks=args.checks,
        ramp=args.ramp,
        ramp_factor=args.ramp_factor,
        max_hosts=args.max_hosts,
        processes=args.processes,
        connections=args.connections,
        timeout=args.timeout,
        thresholds=Thresholds(args.max_p99, args.max_error_rate),
    )
    bar = ProgressBar(sys.stderr)
    try:
        report = Fleet(options, bar).run()
    except (FleetError, RegistrationError, ValueError) as error:
        bar.finish()
        print(f"sabamon bench fleet: {error}", file=sys.stderr)
        return 2
    bar.finish()
    print(table(report))
    if args.json:
        write_json(report, args.json)
    if args.html:
        write_html(report, args.html)
    carried = report.largest_carried is not None
    return 0 if carried or args.ramp else 1


def run_spinup(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="sabamon bench spinup", description="time from server start to its first 200"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--db", help="postgresql://… (default: SQLite in a scratch folder)")
    parser.add_argument("--data", type=Path, help="data folder (default: a scratch folder)")
    parser.add_argument("--json", type=Path, help="write the result as JSON here")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.workers < 1:
        parser.error("--runs and --workers: must be at least 1")
    try:
        report = measure(args.runs, args.workers, args.db, args.data)
    except SpinupError as error:
        print(f"sabamon bench spinup: {error}", file=sys.stderr)
        return 1
    print(report.table())
    if args.json:
        args.json.write_text(json.dumps(report.to_json(), indent=2) + "\n", encoding="utf-8")
    return 0


SUBCOMMANDS = {"fleet": run_fleet, "spinup": run_spinup}


def main(command: str, argv: list[str]) -> int:
    if not argv or argv[0] not in SUBCOMMANDS:
        names = " | ".join(SUBCOMMANDS)
        print(f"usage: sabamon {command} {{{names}}} [OPTIONS]", file=sys.stderr)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    return SUBCOMMANDS[argv[0]](argv[1:])
