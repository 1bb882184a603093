"""External monitors against hostile targets: one deadline for the whole check, a bounded
body prefix, the other monitors evaluated without waiting, and `--outbound-networks`."""

from __future__ import annotations

import asyncio
import time

import psutil
from tests.server.alerts.test_engine import T0, World, receiver, world
from tests.server.alerts.test_external import Site, monitor
from tests.server.trickle import hostile_peer

from sabamon.server.alerts.engine import MONITOR_MARK
from sabamon.server.alerts.external import check
from sabamon.server.outbound import OutboundPolicy
from sabamon.server.store.records import Point

__all__ = ["receiver", "world"]  # the engine tests' fixtures


async def test_a_trickling_target_is_a_timeout_for_its_monitor_only() -> None:
    with hostile_peer("trickle") as url:
        started = time.monotonic()
        result = await asyncio.wait_for(check(monitor(url, timeoutSeconds=1), time.time()), 10)
    assert (result.status, result.message) == ("CRITICAL", "timeout after 1 s")
    assert time.monotonic() - started < 3


async def test_an_endless_body_is_read_up_to_a_bounded_prefix() -> None:
    rss = psutil.Process().memory_info().rss
    with hostile_peer("endless") as url:
        found = await asyncio.wait_for(
            check(monitor(url, containsString="needle", timeoutSeconds=5), time.time()), 10
        )
        missing = await asyncio.wait_for(
            check(monitor(url, containsString="absent", timeoutSeconds=5), time.time()), 10
        )
        plain = await asyncio.wait_for(check(monitor(url, timeoutSeconds=5), time.time()), 10)
    assert found.status == "OK" and plain.status == "OK"
    assert (missing.status, missing.message) == ("CRITICAL", "response does not contain 'absent'")
    assert psutil.Process().memory_info().rss - rss < 30 * 1024 * 1024


async def test_targets_outside_the_allowed_networks_are_not_contacted() -> None:
    site = Site()
    try:
        only_ten = OutboundPolicy.parse("10.0.0.0/8")
        refused = await check(monitor(site.base + "/ok"), time.time(), only_ten)
        loopback = OutboundPolicy.parse("127.0.0.0/8")
        allowed = await check(monitor(site.base + "/ok"), time.time(), loopback)
    finally:
        site.server.shutdown()
        site.server.server_close()
    assert refused.status == "CRITICAL"
    assert (
        "127.0.0.1" in refused.message and "outside the allowed target networks" in refused.message
    )
    assert allowed.status == "OK"


async def test_other_monitors_are_committed_while_an_external_check_runs(world: World) -> None:
    host_id = await world.host("web1")
    await world.monitor(
        {"type": "host", "name": "load", "metric": "loadavg5", "operator": ">", "warning": 1,
         "critical": 2}, "hostmon",
    )  # fmt: skip
    with hostile_peer("trickle") as url:
        await world.monitor(
            {"type": "external", "name": "slow", "url": url, "timeoutSeconds": 3}, "extmon"
        )
        await world.store.series.write_points(
            world.org_id, "host", [Point(host_id, "loadavg5", T0, 5)], T0
        )
        world.clock.now = T0 + 90
        cycle = asyncio.create_task(world.engine.evaluate_minute(T0))
        deadline = time.monotonic() + 10
        while ("hostmon", MONITOR_MARK) not in await world.store.target_states(world.org_id):
            assert time.monotonic() < deadline, "the host monitor waited for the external check"
            await asyncio.sleep(0.02)
        assert not cycle.done()
        await asyncio.wait_for(cycle, 10)
    states = await world.store.target_states(world.org_id)
    assert states[("extmon", MONITOR_MARK)]["last_minute"] == T0
    alerts = {a.monitor_id: a for a in await world.store.open_alerts(world.org_id)}
    assert alerts["hostmon"].status == "CRITICAL" and alerts["extmon"].status == "CRITICAL"
