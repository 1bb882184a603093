"""How `sabamon server` turns the cluster on: flags, their environment for the uvicorn
factory, the coordinator each worker builds, and the run-once maintenance job.

Without ``--redis`` a process is alone (:class:`SoloNode`) and needs no Redis.
``SABAMON_CLOCK_SCALE`` speeds the server's clock up from ``SABAMON_CLOCK_ANCHOR`` (epoch
seconds) so that several processes in a demo or a test agree on minutes lasting a second.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sabamon.server.cluster import (
    HEARTBEAT_INTERVAL,
    MEMBER_TTL,
    ClusterSettings,
    Coordinator,
    SoloNode,
)

if TYPE_CHECKING:
    from sabamon.server.store.base import Store

log = logging.getLogger(__name__)

REDIS_ENV = "SABAMON_REDIS_URL"
HEARTBEAT_ENV = "SABAMON_CLUSTER_HEARTBEAT"
TTL_ENV = "SABAMON_CLUSTER_TTL"
LISTEN_ENV = "SABAMON_CLUSTER_LISTEN"
PREFIX_ENV = "SABAMON_CLUSTER_PREFIX"
SCALE_ENV = "SABAMON_CLOCK_SCALE"
ANCHOR_ENV = "SABAMON_CLOCK_ANCHOR"


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cluster (several servers over one PostgreSQL)")
    group.add_argument("--redis", help="redis://HOST:PORT/DB: share monitors and jobs")
    group.add_argument("--cluster-heartbeat", type=float, default=HEARTBEAT_INTERVAL,
                       metavar="SECONDS", help="membership heartbeat interval")  # fmt: skip
    group.add_argument("--cluster-ttl", type=float, default=MEMBER_TTL, metavar="SECONDS",
                       help="a silent member is dropped after this long")  # fmt: skip
    group.add_argument("--cluster-listen", default="127.0.0.1:0", metavar="HOST:PORT",
                       help="mcond wake-up listener, reachable by the other members")  # fmt: skip
    group.add_argument("--cluster-prefix", default="sabamon:cluster:", help="Redis key prefix")


def export_cluster_arguments(
    parser: argparse.ArgumentParser, args: argparse.Namespace, environ: MutableMapping[str, str]
) -> None:
    """Check the flags (exiting with a message naming the flag) and pass them to workers."""
    if args.redis is None:
        environ.pop(REDIS_ENV, None)
        return
    from sabamon.mcond.option import split_host_port
    from sabamon.server.cluster.node import mcond_option

    try:
        settings = ClusterSettings(
            redis_url=args.redis,
            heartbeat_interval=args.cluster_heartbeat,
            member_ttl=args.cluster_ttl,
            mcond_listen=args.cluster_listen,
            prefix=args.cluster_prefix,
        )
        mcond_option(settings)
        split_host_port(settings.mcond_listen, "--cluster-listen")
    except ValueError as error:
        parser.error(str(error))
    environ.update({
        REDIS_ENV: args.redis,
        HEARTBEAT_ENV: str(args.cluster_heartbeat),
        TTL_ENV: str(args.cluster_ttl),
        LISTEN_ENV: args.cluster_listen,
        PREFIX_ENV: args.cluster_prefix,
    })  # fmt: skip


def coordinator_from_environment(environ: Mapping[str, str]) -> Coordinator:
    redis_url = environ.get(REDIS_ENV)
    if not redis_url:
        return SoloNode()
    from sabamon.server.cluster.node import ClusterNode

    return ClusterNode(
        ClusterSettings(
            redis_url=redis_url,
            heartbeat_interval=float(environ.get(HEARTBEAT_ENV, HEARTBEAT_INTERVAL)),
            member_ttl=float(environ.get(TTL_ENV, MEMBER_TTL)),
            mcond_listen=environ.get(LISTEN_ENV, "127.0.0.1:0"),
            prefix=environ.get(PREFIX_ENV, "sabamon:cluster:"),
        )
    )


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


def time_base_from_environment(environ: Mapping[str, str]) -> TimeBase:
    scale = float(environ.get(SCALE_ENV, "1"))
    if scale <= 0:
        raise ValueError(f"{SCALE_ENV} must be positive, got {scale}")
    return TimeBase(scale, float(environ.get(ANCHOR_ENV, time.time())))


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
