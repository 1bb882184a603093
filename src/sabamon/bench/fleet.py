"""`sabamon bench fleet`: a simulated fleet of agents against a server, in steps.

A run registers the hosts, then runs one step of `duration` seconds; with `ramp` it keeps
adding hosts (times `ramp_factor`) after every step the server carried, and stops at the
first step whose p99 latency or error rate passes the thresholds. The hosts are split over
`processes` load-generator processes (spawned once, kept for the whole run).

Time scale: with `time_scale` X, each simulated host posts every `interval / X` real
seconds, and the host-minutes it posts advance X times faster than the wall clock, so a
fleet of N hosts at scale X sends the requests of N × X real hosts. Simulated time starts
at the current minute and must stay inside the server's ±24 h write window.
"""

from __future__ import annotations

import math
import multiprocessing
import queue
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from sabamon.bench.register import register_shard
from sabamon.bench.resources import ServerWatch, database_processes, server_processes
from sabamon.bench.results import ProcessFigures, StepResult, Thresholds, summarise
from sabamon.bench.shard import Record, ShardOutcome, ShardPlan, run_shard, set_progress_queue

WRITE_WINDOW = 86400
FIRST_STEP_LEAD = 1.0
NEXT_STEP_LEAD = 0.3


class FleetError(Exception):
    """Options that cannot make a run, or a server that refuses the fleet outright."""


@dataclass(frozen=True)
class FleetOptions:
    url: str
    apikey: str
    hosts: int
    metrics: int
    interval: float = 60.0
    duration: float = 60.0
    warmup: float = 0.0
    """Seconds at the start of each step left out of the figures (first series writes)."""
    time_scale: float = 1.0
    checks: bool = False
    ramp: bool = False
    ramp_factor: float = 1.5
    max_hosts: int = 1_000_000
    processes: int = 4
    connections: int = 32
    """Per process."""
    timeout: float = 30.0
    drain: float = 30.0
    """Seconds to wait for answers still due after a step ends."""
    thresholds: Thresholds = field(default_factory=Thresholds)
    name_prefix: str = field(default_factory=lambda: f"bench-{uuid.uuid4().hex[:8]}")

    def check(self) -> None:
        problems = []
        if self.hosts < 1:
            problems.append("--hosts: must be at least 1")
        if self.metrics < 1:
            problems.append("--metrics: must be at least 1")
        for name in ("interval", "duration", "time_scale", "timeout"):
            if not getattr(self, name) > 0:
                problems.append(f"--{name.replace('_', '-')}: must be above 0")
        if not 0 <= self.warmup < self.duration:
            problems.append("--warmup: must be at least 0 and below --duration")
        if self.ramp and not self.ramp_factor > 1:
            problems.append("--ramp-factor: must be above 1")
        if self.processes < 1 or self.connections < 1:
            problems.append("--processes and --connections: must be at least 1")
        if self.duration * self.time_scale > WRITE_WINDOW - 2 * self.interval:
            problems.append(
                "--duration × --time-scale: a step must stay inside the server's 24 h window"
            )
        if problems:
            raise FleetError("; ".join(problems))


@dataclass
class Progress:
    """What the progress bar shows, updated twice a second during a step."""

    step: int
    hosts: int
    elapsed: float
    duration: float
    requests: int
    errors: int


@dataclass
class FleetReport:
    options: FleetOptions
    registration_seconds: float
    steps: list[StepResult]
    acknowledged: dict[str, list[int]]
    """Host id → host-minutes the server acknowledged (for read-back checks)."""

    @property
    def largest_carried(self) -> int | None:
        carried = [step.hosts for step in self.steps if step.carried]
        return max(carried) if carried else None

    def to_json(self) -> dict[str, Any]:
        options = asdict(self.options)
        options.pop("apikey")
        return {
            "options": options,
            "registration_seconds": round(self.registration_seconds, 3),
            "largest_carried": self.largest_carried,
            "steps": [step.to_json() for step in self.steps],
        }


class Fleet:
    def __init__(
        self, options: FleetOptions, on_progress: Callable[[Progress], None] | None = None
    ) -> None:
        options.check()
        self.options = options
        self.on_progress = on_progress
        self.host_ids: list[str] = []
        self.acknowledged: dict[str, list[int]] = {}
        self.registration_seconds = 0.0
        self.sim_first = int(time.time()) // 60 * 60
        self.sim_next = self.sim_first

    def run(self) -> FleetReport:
        context = multiprocessing.get_context("spawn")
        progress: Any = context.Queue()
        steps: list[StepResult] = []
        with ProcessPoolExecutor(
            self.options.processes,
            mp_context=context,
            initializer=set_progress_queue,
            initargs=(progress,),
        ) as pool:
            hosts = self.options.hosts
            while True:
                self.register_up_to(pool, hosts)
                step = self.run_step(pool, progress, len(steps), hosts)
                steps.append(step)
                hosts = math.ceil(hosts * self.options.ramp_factor)
                if not (self.options.ramp and step.carried and hosts <= self.options.max_hosts):
                    break
                if self.sim_span_left() < self.options.duration * self.options.time_scale:
                    break
        return FleetReport(self.options, self.registration_seconds, steps, self.acknowledged)

    def sim_span_left(self) -> float:
        """Simulated seconds left before host-minutes would leave the ±24 h window."""
        return WRITE_WINDOW - 2 * self.options.interval - (self.sim_next - self.sim_first)

    def register_up_to(self, pool: ProcessPoolExecutor, hosts: int) -> None:
        options = self.options
        first = len(self.host_ids)
        names = [f"{options.name_prefix}-{index:07d}" for index in range(first, hosts)]
        if not names:
            return
        started = time.monotonic()
        shards = [names[index :: options.processes] for index in range(options.processes)]
        futures = [
            pool.submit(register_shard, options.url, options.apikey, shard, options.connections)
            for shard in shards
            if shard
        ]
        registered = [future.result() for future in futures]
        ids = [""] * len(names)
        for index, shard_ids in enumerate(registered):
            ids[index :: options.processes] = shard_ids
        self.host_ids.extend(ids)
        self.registration_seconds += time.monotonic() - started

    def run_step(
        self, pool: ProcessPoolExecutor, progress: Any, index: int, hosts: int
    ) -> StepResult:
        options = self.options
        lead = FIRST_STEP_LEAD if index == 0 else NEXT_STEP_LEAD
        start_at = time.time() + lead
        sim_start = self.sim_next
        steps_minutes = math.ceil(options.duration * options.time_scale / options.interval)
        self.sim_next = sim_start + int(steps_minutes * options.interval)
        ids = self.host_ids[:hosts]
        plans = [
            ShardPlan(
                shard=shard,
                url=options.url,
                apikey=options.apikey,
                metrics=options.metrics,
                interval=options.interval,
                time_scale=options.time_scale,
                start_at=start_at,
                duration=options.duration,
                sim_start=sim_start,
                host_ids=ids[shard :: options.processes],
                checks=options.checks,
                connections=options.connections,
                timeout=options.timeout,
                drain=options.drain,
            )
            for shard in range(options.processes)
        ]
        watched = server_processes(options.url)
        database = database_processes() if watched else []
        parent_cpu, wall = time.process_time(), time.monotonic()
        with ServerWatch(watched) as watch, ServerWatch(database) as database_watch:
            futures = [pool.submit(run_shard, plan) for plan in plans if plan.host_ids]
            records = self.collect(futures, progress, index, hosts, start_at)
        outcomes = [future.result() for future in futures]
        generator = ProcessFigures(
            processes=len(outcomes) + 1,
            cpu_seconds=time.process_time() - parent_cpu + sum(o.cpu_seconds for o in outcomes),
            cpu_percent=0.0,
        )
        generator.cpu_percent = round(100 * generator.cpu_seconds / (time.monotonic() - wall), 1)
        generator.cpu_seconds = round(generator.cpu_seconds, 3)
        server = watch.figures() if watched else None
        step = self.summarise_step(records, outcomes, hosts, generator, server)
        step.database = database_watch.figures() if database else None
        return step

    def collect(
        self,
        futures: list[Future[ShardOutcome]],
        progress: Any,
        index: int,
        hosts: int,
        start_at: float,
    ) -> list[Record]:
        records: list[Record] = []
        errors = 0
        while True:
            finished = all(future.done() for future in futures)
            try:
                while True:
                    _, batch = progress.get(timeout=0.5)
                    records.extend(batch)
                    errors += sum(1 for record in batch if not 200 <= record[2] < 300)
            except queue.Empty:
                pass
            if self.on_progress is not None:
                elapsed = min(self.options.duration, max(0.0, time.time() - start_at))
                self.on_progress(
                    Progress(index, hosts, elapsed, self.options.duration, len(records), errors)
                )
            if finished:
                for future in futures:
                    records.extend(future.result().records)
                return records

    def summarise_step(
        self,
        records: list[Record],
        outcomes: list[ShardOutcome],
        hosts: int,
        generator: ProcessFigures,
        server: ProcessFigures | None,
    ) -> StepResult:
        options = self.options
        acknowledged_minutes = 0
        for outcome in outcomes:
            for host_id, minutes in outcome.acknowledged.items():
                self.acknowledged.setdefault(host_id, []).extend(minutes)
                acknowledged_minutes += len(minutes)
        return summarise(
            records,
            hosts=hosts,
            metrics=options.metrics,
            duration=options.duration,
            time_scale=options.time_scale,
            unsent=sum(outcome.unsent for outcome in outcomes),
            acknowledged_minutes=acknowledged_minutes,
            thresholds=options.thresholds,
            server=server,
            generator=generator,
            warmup=options.warmup,
        )
