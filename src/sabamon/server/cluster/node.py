"""One server process as a cluster member: heartbeat, ring, mcond and run-once jobs.

Rule when Redis is unreachable (issue 7): the member keeps serving and ingesting, logs
``event=cluster_coordination_lost`` once, and from the end of its lease (``member_ttl``
after its last good heartbeat) owns no monitor and runs no shared job, so nothing is
evaluated twice. The other members, if they still reach Redis, drop it when its key
expires and take its monitors over; when Redis comes back it rejoins at its next heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff

from sabamon.mcond import AsyncMCond, MCondOption
from sabamon.server.cluster import ClusterSettings
from sabamon.server.cluster.assignment import Assignment
from sabamon.server.cluster.membership import Member, Membership
from sabamon.server.cluster.run_once import CoordinationLost, Job, JobRunner

log = logging.getLogger(__name__)

REDIS_TIMEOUT = 5.0
ANNOUNCE_SPACING = 0.25
"""Seconds between two broadcasts of one topic to the peers; announces in between share
the next one, so a burst of check reports costs each peer a few calls a second."""


def mcond_option(settings: ClusterSettings) -> MCondOption:
    """mcond's Redis settings from a ``redis://host:port/db`` URL; raises ValueError."""
    url = urlsplit(settings.redis_url)
    if url.scheme != "redis":
        raise ValueError(f"--redis {settings.redis_url!r}: expected redis://HOST:PORT/DB")
    if url.password or url.username:
        raise ValueError(f"--redis {settings.redis_url!r}: mcond cannot log in to Redis")
    db_text = url.path.strip("/") or "0"
    if not db_text.isdigit():
        raise ValueError(f"--redis {settings.redis_url!r}: database {db_text!r} is not a number")
    return MCondOption(
        redis_host=f"{url.hostname or '127.0.0.1'}:{url.port or 6379}",
        redis_db=int(db_text),
        addr=settings.mcond_listen,
        secret=settings.mcond_secret,
    )


class ClusterNode:
    """Owns the monitors the ring gives it and runs shared jobs once across members."""

    def __init__(
        self, settings: ClusterSettings, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.member_id = settings.member_id or uuid.uuid4().hex[:12]
        self._monotonic = monotonic
        option = mcond_option(settings)  # validates the URL before redis-py sees it
        self._client = redis.asyncio.Redis.from_url(
            settings.redis_url,
            decode_responses=True,
            socket_timeout=REDIS_TIMEOUT,
            socket_connect_timeout=REDIS_TIMEOUT,
            # A down Redis shows within a second, not after redis-py's default backoff.
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
        )
        self._mcond = AsyncMCond(option)
        self.assignment = Assignment(self.member_id)
        self._membership: Membership | None = None
        self._jobs = JobRunner(
            self._client,
            self._mcond,
            self.member_id,
            prefix=settings.prefix,
            claim_lease=settings.claim_lease,
        )
        self._stop = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._unsent: set[str] = set()  # topics announced since their last broadcast
        self._announcers: dict[str, asyncio.Task[None]] = {}

    async def start(self) -> None:
        """Listen for mcond wake-ups, join and keep heartbeating; Redis may still be down."""
        await self._mcond.start()
        self._membership = Membership(
            self._client,
            Member(self.member_id, self._mcond.address),
            prefix=self.settings.prefix,
            ttl=self.settings.member_ttl,
            monotonic=self._monotonic,
        )
        await self.refresh()
        self._loop = asyncio.create_task(self._heartbeat_loop())
        log.info("event=cluster_joined member=%s mcond=%s", self.member_id, self._mcond.address)

    async def refresh(self) -> None:
        """Heartbeat, read the members and rebuild the ring if they changed."""
        if self._membership is None:
            return
        await self._membership.heartbeat()
        members = await self._membership.read_members()
        if members is None:
            return
        for member in members:
            if member.id != self.member_id and member.mcond_addr:
                self._mcond.add_host(member.mcond_addr)
        if self.assignment.update(member.id for member in members):
            log.info(
                "event=cluster_members_changed member=%s members=%s",
                self.member_id,
                ",".join(sorted(self.assignment.members)),
            )

    def owns(self, key: str) -> bool:
        """True when this member should evaluate ``key`` (a monitor id) now."""
        leased = self._membership is not None and self._membership.lease_valid()
        return leased and self.assignment.owns(key)

    def listen(self, topic: str) -> asyncio.Event:
        """The event the next announce of ``topic`` sets here, from any member (mcond)."""
        return self._mcond.woken(topic)

    def announce(self, topic: str) -> None:
        """Broadcast ``topic`` through mcond (this member's listeners and every peer's)
        without waiting; see ANNOUNCE_SPACING. A lost broadcast costs latency only: the
        work is found again by its regular schedule."""
        self._unsent.add(topic)
        if topic not in self._announcers:
            self._announcers[topic] = asyncio.create_task(self._broadcast(topic))

    async def _broadcast(self, topic: str) -> None:
        try:
            while topic in self._unsent:
                self._unsent.discard(topic)
                await self._mcond.broadcast(topic)
                await asyncio.sleep(ANNOUNCE_SPACING)
        except Exception as error:
            log.warning("event=cluster_announce_failed topic=%s error=%r", topic, error)
        finally:
            del self._announcers[topic]  # no await since the loop's last check

    async def run_once(self, job_key: str, fn: Job, timeout: float | None = None) -> Any:
        """See :meth:`JobRunner.run_once`; refused once this member's lease has run out."""
        if self._membership is None or not self._membership.lease_valid():
            raise CoordinationLost(f"job {job_key!r}: not a live cluster member")
        return await self._jobs.run_once(job_key, fn, timeout)

    async def _heartbeat_loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.settings.heartbeat_interval)
            if self._stop.is_set():
                return
            try:
                await self.refresh()
            except Exception as error:
                log.error("event=cluster_refresh_failed member=%s error=%r", self.member_id, error)

    async def close(self) -> None:
        """Leave the cluster (the others take over at once) and release everything."""
        self._stop.set()
        if self._loop is not None:
            await self._loop
        for task in list(self._announcers.values()):
            task.cancel()
        if self._membership is not None:
            await self._membership.leave()
        await self._mcond.close()
        await self._client.aclose()
        log.info("event=cluster_left member=%s", self.member_id)
