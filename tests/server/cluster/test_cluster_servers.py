"""Three `sabamon server` processes on one PostgreSQL and Redis share the monitors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_servers import Cluster
from tests.support.waiting import wait_until

from sabamon.server.alerts.monitors import validate_monitor
from sabamon.server.store import Store
from sabamon.server.store.postgres import PostgresBackend
from sabamon.server.store.records import Document, new_id

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(90)]

MONITORS = 24


async def create_monitors(db_url: str) -> list[str]:
    store = Store(PostgresBackend(db_url, pool_size=4))
    await store.open()
    try:
        org, _ = await store.ensure_org("default")
        ids = []
        for i in range(MONITORS):
            spec = validate_monitor({
                "type": "service", "name": f"queue {i}", "service": "web",
                "metric": f"queue.{i}", "operator": ">", "warning": 10, "critical": 20,
                "missingDurationWarning": 10,
            })  # fmt: skip
            doc = Document(new_id(), spec)
            await store.put_document(org.id, "monitor", doc, int(time.time()))
            ids.append(doc.id)
        return ids
    finally:
        await store.close()


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_dsn: str, redis_url: str, redis_namespace: str
) -> Iterator[Cluster]:
    running = Cluster(tmp_path, postgres_dsn, redis_url, redis_namespace)
    try:
        yield running
    finally:
        running.stop_all()


def minutes_after(cluster: Cluster, start: float) -> list[int]:
    """Minutes from `start` that every live member has finished (it logged a later one)."""
    live = [s for s in cluster.servers if s.process.poll() is None]
    done_before = min(max((m for _, m in s.evaluations()), default=0) for s in live)
    found = {minute for (_, minute) in cluster.evaluations() if start <= minute < done_before}
    return sorted(found)


def test_monitors_evaluated_once_each_minute_and_taken_over_after_kill(
    cluster: Cluster,
) -> None:
    cluster.start("s1")
    monitors = asyncio.run(create_monitors(cluster.db_url))
    cluster.start("s2")
    victim = cluster.start("s3")
    joined = cluster.clock() + 60  # one minute for every member to see the others

    wait_until(lambda: len(minutes_after(cluster, joined)) >= 3, 40, "three shared minutes")
    counts = cluster.evaluations()
    for minute in minutes_after(cluster, joined)[:3]:
        assert [counts[(m, minute)] for m in monitors] == [1] * MONITORS, f"minute {minute}"
    owned = {m for m, minute in victim.evaluations() if minute >= joined}
    assert owned, "the third member evaluated nothing"

    killed_at = time.monotonic()
    killed_clock = cluster.clock()
    cluster.kill(victim)

    def taken_over() -> bool:
        survivors = [s for s in cluster.servers if s is not victim]
        seen = {m for s in survivors for m, minute in s.evaluations() if minute >= killed_clock}
        return owned <= seen

    wait_until(taken_over, 20, "the killed member's monitors to move")
    takeover_seconds = time.monotonic() - killed_at
    print(f"takeover after kill -9: {takeover_seconds:.2f} s real")
    wait_until(
        lambda: len(minutes_after(cluster, killed_clock + 120)) >= 2, 30, "two later minutes"
    )
    counts = cluster.evaluations()
    for minute in minutes_after(cluster, killed_clock + 120)[:2]:
        assert [counts[(m, minute)] for m in monitors] == [1] * MONITORS, f"minute {minute}"

    jobs = cluster.jobs_ran()
    maintenance = {job: n for job, n in jobs.items() if job.startswith("maintenance:")}
    assert maintenance, "no maintenance window ran"
    assert set(maintenance.values()) == {1}, f"a window ran twice: {maintenance}"
