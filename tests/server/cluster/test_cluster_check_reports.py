"""Check reports posted to one member open alerts on the members that own their check
monitors within seconds, in real time (the minute path would take 30 s or more)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cluster_servers import API_KEY, Cluster
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(90)]

HOSTS = 12  # check monitors spread over both members (all on one: 2 in 4,096)
COMMITTED = re.compile(r"event=checks_evaluated reports=\d+ committed=([1-9]\d*)")


@pytest.fixture
def cluster(
    tmp_path: Path, postgres_dsn: str, redis_url: str, redis_namespace: str
) -> Iterator[Cluster]:
    running = Cluster(tmp_path, postgres_dsn, redis_url, redis_namespace, clock_scale=1.0)
    try:
        yield running
    finally:
        running.stop_all()


def test_a_report_to_one_member_alerts_on_the_owner_within_seconds(cluster: Cluster) -> None:
    receiving, other = cluster.start("a"), cluster.start("b")
    both = re.compile(r"event=cluster_members_changed member=\S+ members=\S+,\S+")
    wait_until(lambda: all(both.search(s.log()) for s in (receiving, other)), 20, "two members")
    with httpx.Client(base_url=receiving.url, headers={"X-Api-Key": API_KEY}) as http:
        hosts = [
            http.post("/api/v0/hosts", json={"name": f"web{i}", "meta": {}}).json()["id"]
            for i in range(HOSTS)
        ]
        now = int(time.time())
        reports = [{"source": {"type": "host", "hostId": h}, "name": "ssh", "status": "CRITICAL",
                    "message": "down", "occurredAt": now} for h in hosts]  # fmt: skip
        started = time.monotonic()
        assert http.post("/api/v0/monitoring/checks/report", json={"reports": reports}).is_success

        def opened() -> bool:
            alerts = http.get("/api/v0/alerts").json()["alerts"]
            return len([a for a in alerts if a["type"] == "check"]) == HOSTS

        wait_until(opened, 15, "every check alert")
    assert time.monotonic() - started < 15
    assert COMMITTED.search(other.log()), "the member that received nothing evaluated its share"
    assert COMMITTED.search(receiving.log())
