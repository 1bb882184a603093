"""One load-generator process: its share of the simulated hosts, registered and posting.

Each simulated host behaves as the agent does: it posts at its own second of the interval
(the agent's `host_delay_seconds`, plus a sub-second phase), one host-minute of metrics per
request, at most two waiting minutes merged into one post; after a 503 it waits the
server's Retry-After, after another 5xx or a network error it waits `error_delay`, and a
4xx drops the batch. Latency runs from the moment a post was due, so time spent waiting
for a free connection counts (no coordinated omission).

Outcomes stream to the parent through `progress` as `Record` tuples every half second.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from typing import Any

from sabamon.agent.loop import host_delay_seconds
from sabamon.bench.http import Connection, Endpoint, ProtocolError

# Record: (due, latency, status, kind): `due` in seconds after the step's start; `status`
# the HTTP status, or TIMEOUT / NETWORK_ERROR; `kind` METRICS or CHECKS.
Record = tuple[float, float, int, int]
TIMEOUT = 0
NETWORK_ERROR = 1
METRICS = 0
CHECKS = 1
FLUSH_EVERY = 0.5
MAX_MINUTES_PER_POST = 2
CHECK_REPORT_PATH = "/api/v0/monitoring/checks/report"

_progress: Queue[Any] | None = None


def set_progress_queue(progress: Queue[Any]) -> None:
    """The process pool's initializer: where this process sends its records."""
    global _progress
    _progress = progress


@dataclass(frozen=True)
class ShardPlan:
    shard: int
    url: str
    apikey: str
    metrics: int
    interval: float
    time_scale: float
    start_at: float
    """Wall-clock time at which the step starts (the same for every shard)."""
    duration: float
    sim_start: int
    """Simulated time of the step's start: the first host-minute posted."""
    host_ids: list[str]
    checks: bool
    connections: int
    timeout: float
    error_delay: float = 1.0
    drain: float = 30.0


@dataclass
class ShardOutcome:
    cpu_seconds: float
    acknowledged: dict[str, list[int]]
    unsent: int
    records: list[Record]
    """Records not already sent through the progress queue."""


@dataclass
class SimulatedHost:
    host_id: str
    phase: float
    """Seconds into each interval at which the host posts (simulated time)."""
    name_prefixes: list[str]
    pending: deque[int] = field(default_factory=deque)
    not_before: float = 0.0
    posting: bool = False


def host_phase(host_id: str, interval: float) -> float:
    fraction = hashlib.sha1(host_id.encode()).digest()[0] / 256
    return (host_delay_seconds(host_id, int(interval) or 1) + fraction) % interval


def metric_names(count: int) -> list[str]:
    return [f"bench.metric{index:03d}" for index in range(count)]


def headers(apikey: str) -> dict[str, str]:
    return {"X-Api-Key": apikey, "User-Agent": "sabamon-bench"}


class ShardRunner:
    def __init__(self, plan: ShardPlan) -> None:
        self.plan = plan
        endpoint = Endpoint.from_url(plan.url)
        self.pool: asyncio.Queue[Connection] = asyncio.Queue()
        for _ in range(plan.connections):
            self.pool.put_nowait(Connection(endpoint, headers(plan.apikey)))
        names = metric_names(plan.metrics)
        self.hosts = [
            SimulatedHost(
                host_id,
                host_phase(host_id, plan.interval),
                [f'{{"hostId":"{host_id}","name":"{name}","time":' for name in names],
            )
            for host_id in plan.host_ids
        ]
        self.records: list[Record] = []
        self.acknowledged: dict[str, list[int]] = {}
        self.deadline = plan.start_at + plan.duration
        self.tasks: set[asyncio.Task[None]] = set()

    def real_time(self, sim_time: float) -> float:
        return self.plan.start_at + (sim_time - self.plan.sim_start) / self.plan.time_scale

    async def run(self) -> ShardOutcome:
        started_cpu = time.process_time()
        flusher = asyncio.create_task(self.flush_forever())
        await self.schedule()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=self.plan.drain)
        for task in self.tasks:
            task.cancel()
        flusher.cancel()
        self.flush()
        while not self.pool.empty():
            self.pool.get_nowait().close()
        unsent = sum(len(host.pending) for host in self.hosts)
        cpu_seconds = time.process_time() - started_cpu
        return ShardOutcome(cpu_seconds, self.acknowledged, unsent, self.records)

    async def schedule(self) -> None:
        """Marks each host-minute due at its host's second, in time order, until the end."""
        plan = self.plan
        by_phase = sorted(self.hosts, key=lambda host: host.phase)
        round_index = 0
        while True:
            minute = plan.sim_start + int(round_index * plan.interval)
            for host in by_phase:
                due = self.real_time(minute + host.phase)
                if due >= self.deadline:
                    return
                delay = due - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                host.pending.append(minute)
                if not host.posting:
                    host.posting = True
                    task = asyncio.create_task(self.post_pending(host, due))
                    self.tasks.add(task)
                    task.add_done_callback(self.tasks.discard)
            round_index += 1

    async def post_pending(self, host: SimulatedHost, due: float) -> None:
        try:
            while host.pending:
                if host.not_before > time.time():
                    if host.not_before >= self.deadline:
                        return
                    await asyncio.sleep(host.not_before - time.time())
                    due = host.not_before
                minutes = list(host.pending)[:MAX_MINUTES_PER_POST]
                body = self.metrics_body(host, minutes)
                status, retry_after = await self.send(due, METRICS, "/api/v0/tsdb", body)
                due = time.time()
                if 200 <= status < 300:
                    for _ in minutes:
                        host.pending.popleft()
                    self.acknowledged.setdefault(host.host_id, []).extend(minutes)
                    if self.plan.checks:
                        report = check_body(host.host_id, minutes[-1])
                        await self.send(due, CHECKS, CHECK_REPORT_PATH, report)
                elif 400 <= status < 500:
                    for _ in minutes:
                        host.pending.popleft()
                else:
                    if time.time() >= self.deadline:
                        return
                    host.not_before = time.time() + (retry_after or self.plan.error_delay)
        finally:
            host.posting = False

    async def send(self, due: float, kind: int, path: str, body: bytes) -> tuple[int, float | None]:
        """Posts once and records (due, latency, status, kind); returns the status and the
        Retry-After of a 503."""
        retry_after = None
        connection = await self.pool.get()
        try:
            answer = await asyncio.wait_for(
                connection.request("POST", path, body), self.plan.timeout
            )
            status = answer.status
            if status == 503:
                retry_after = answer.retry_after()
        except TimeoutError:
            status = TIMEOUT
        except (OSError, asyncio.IncompleteReadError, ProtocolError, ValueError):
            status = NETWORK_ERROR
        finally:
            self.pool.put_nowait(connection)
        self.records.append((due - self.plan.start_at, time.time() - due, status, kind))
        return status, retry_after

    def metrics_body(self, host: SimulatedHost, minutes: list[int]) -> bytes:
        values = [
            f'{prefix}{minute},"value":{random.random() * 100:.3f}}}'
            for minute in minutes
            for prefix in host.name_prefixes
        ]
        return ("[" + ",".join(values) + "]").encode()

    async def flush_forever(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            self.flush()

    def flush(self) -> None:
        if self.records and _progress is not None:
            _progress.put((self.plan.shard, self.records))
            self.records = []


def check_body(host_id: str, minute: int) -> bytes:
    report = {
        "source": {"type": "host", "hostId": host_id},
        "name": "bench-check",
        "status": "OK",
        "message": "simulated by sabamon bench",
        "occurredAt": minute,
    }
    return json.dumps({"reports": [report]}).encode()


def run_shard(plan: ShardPlan) -> ShardOutcome:
    """The process pool's task: runs one shard of one step."""
    return asyncio.run(ShardRunner(plan).run())
