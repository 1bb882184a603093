"""Several server processes sharing the work over one Redis.

Membership is a heartbeat key per member; monitors go to members by a consistent-hash
ring; heavy jobs run once through mcond. A single process uses :class:`SoloNode` and
needs no Redis: the names that need it are imported on first use, so a single-process
server never loads redis-py.
"""

from __future__ import annotations

import asyncio
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sabamon.mcond.signals import WakeSignals

if TYPE_CHECKING:
    from sabamon.server.cluster.assignment import Assignment
    from sabamon.server.cluster.membership import Member, Membership
    from sabamon.server.cluster.node import ClusterNode
    from sabamon.server.cluster.run_once import CoordinationLost, Job, JobFailed, JobRunner

__all__ = [
    "Assignment",
    "ClusterNode",
    "ClusterSettings",
    "CoordinationLost",
    "Coordinator",
    "Job",
    "JobFailed",
    "JobRunner",
    "Member",
    "Membership",
    "SoloNode",
]

HEARTBEAT_INTERVAL = 10.0
"""Seconds between two heartbeats of a member."""
MEMBER_TTL = 30.0
"""Seconds after its last heartbeat that a silent member is dropped."""
CLAIM_LEASE = 30.0
"""Seconds a run-once claim holds unless its member renews it."""


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """How a member reaches Redis and its peers; intervals in seconds."""

    redis_url: str
    prefix: str = "sabamon:cluster:"
    heartbeat_interval: float = HEARTBEAT_INTERVAL
    member_ttl: float = MEMBER_TTL
    claim_lease: float = CLAIM_LEASE
    mcond_listen: str = "127.0.0.1:0"  # an address the other members can reach
    mcond_secret: str | None = None
    member_id: str | None = None  # default: a fresh random id per process

    def __post_init__(self) -> None:
        if not 0 < self.heartbeat_interval < self.member_ttl:
            raise ValueError(
                f"cluster heartbeat interval ({self.heartbeat_interval} s) must be positive "
                f"and shorter than the member TTL ({self.member_ttl} s)"
            )


_HOMES = {
    "Assignment": "assignment",
    "ClusterNode": "node",
    "CoordinationLost": "run_once",
    "Job": "run_once",
    "JobFailed": "run_once",
    "JobRunner": "run_once",
    "Member": "membership",
    "Membership": "membership",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)


class Coordinator(Protocol):
    """What the background jobs and the alert engine ask of the cluster."""

    def owns(self, key: str) -> bool: ...
    def announce(self, topic: str) -> None:
        """Wake whoever listens to `topic`, on this member and on every other one."""

    def listen(self, topic: str) -> asyncio.Event:
        """The event the next announce of `topic` sets (take it before the work)."""

    async def refresh(self) -> None: ...
    async def run_once(self, job_key: str, fn: Job, timeout: float | None = None) -> Any: ...
    async def start(self) -> None: ...
    async def close(self) -> None: ...


class SoloNode:
    """The one-process case: this process owns every monitor and runs every job."""

    def __init__(self) -> None:
        self._topics: WakeSignals[asyncio.Event] = WakeSignals(asyncio.Event)

    def owns(self, key: str) -> bool:
        return True

    def announce(self, topic: str) -> None:
        self._topics.wake(topic)

    def listen(self, topic: str) -> asyncio.Event:
        self._topics.register(topic)
        return self._topics.current(topic)

    async def refresh(self) -> None:
        return None

    async def run_once(self, job_key: str, fn: Job, timeout: float | None = None) -> Any:
        return await fn()

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None
