"""How a server process takes part in a cluster: the coordinator each worker builds from
its settings, the time base, and the run-once maintenance job.

Without ``--redis`` a process is alone (:class:`SoloNode`) and needs no Redis. A
`TimeBase` speeds the server's clock up from an anchor (epoch seconds) so that several
processes in a demo or a test agree on minutes lasting a second (`server/settings.py`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sabamon.server.cluster import ClusterSettings, Coordinator, SoloNode

if TYPE_CHECKING:
    from sabamon.server.store import Store

log = logging.getLogger(__name__)


def coordinator_for(cluster: ClusterSettings | None) -> Coordinator:
    """A cluster member over Redis, or alone (`SoloNode`, redis-py never imported)."""
    if cluster is None:
        return SoloNode()
    from sabamon.server.cluster.node import ClusterNode

    return ClusterNode(cluster)


@dataclass(frozen=True, slots=True)
class TimeBase:
    """Wall time, optionally running ``scale`` times faster from ``anchor``."""

    scale: float = 1.0
    anchor: float = 0.0

    def clock(self) -> float:
        now = time.time()
        return self.anchor + (now - self.anchor) * self.scale

    def seconds(self, clock_seconds: float) -> float:
        """Real seconds that ``clock_seconds`` of this clock take."""
        return clock_seconds / self.scale


async def run_maintenance_once(
    store: Store, coordinator: Coordinator, now: int, window: int
) -> dict[str, int] | None:
    """Rollup then expiry for the `window`-second slot holding `now`, once per cluster.

    Returns what the member that ran it reported, or None when it could not be run
    (coordination lost: skipped, the next window catches up; rollup marks persist).
    """
    from sabamon.server.cluster.run_once import CoordinationLost, JobFailed

    async def maintain() -> dict[str, int]:
        buckets = await store.series.compact(now)
        deleted = await store.series.expire(now) + await store.expire(now)
        return {"buckets": buckets, "deleted": deleted}

    slot = now - now % window
    try:
        result: dict[str, int] = await coordinator.run_once(f"maintenance:{slot}", maintain)
    except (CoordinationLost, JobFailed, TimeoutError) as error:
        log.error("event=maintenance_skipped slot=%d error=%s", slot, error)
        return None
    return result
