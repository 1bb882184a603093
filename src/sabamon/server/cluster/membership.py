"""Live cluster membership in Redis: one heartbeat key per member, with a TTL.

Each member SETs ``<prefix>member:<id>`` (its mcond address) with a TTL every
``heartbeat_interval`` seconds and keeps its id in the set ``<prefix>members``. Reading
the members MGETs every listed key: a key that has expired means a dead member, which is
dropped from the set then and there.

The *lease* is how long this member may still act as one: it runs from the moment the last
successful heartbeat was sent (before Redis applied its TTL, so it ends no later than the
key) for ``ttl`` seconds. While Redis is unreachable the lease runs out before the other
members can see the key gone, so two members never own the same monitor at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import redis
import redis.asyncio

from sabamon.server.cluster import MEMBER_TTL

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    mcond_addr: str  # "host:port" of its mcond listener, "" when it has none


class Membership:
    """One member's heartbeat and its view of the others."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        me: Member,
        *,
        prefix: str = "sabamon:cluster:",
        ttl: float = MEMBER_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0:
            raise ValueError(f"cluster member ttl must be positive, got {ttl}")
        self.me = me
        self._client = client
        self._prefix = prefix
        self._ttl = ttl
        self._monotonic = monotonic
        self._lease_until = float("-inf")
        self._connected = True

    @property
    def index_key(self) -> str:
        return f"{self._prefix}members"

    def member_key(self, member_id: str) -> str:
        return f"{self._prefix}member:{member_id}"

    def lease_valid(self) -> bool:
        """True while this member's heartbeat key surely still exists in Redis."""
        return self._monotonic() < self._lease_until

    async def heartbeat(self) -> bool:
        """Renew this member's key; False (and the lease left to run out) when Redis fails."""
        sent_at = self._monotonic()
        try:
            pipe = self._client.pipeline(transaction=True)
            pipe.set(self.member_key(self.me.id), self.me.mcond_addr, px=int(self._ttl * 1000))
            pipe.sadd(self.index_key, self.me.id)
            await pipe.execute()
        except redis.RedisError as error:
            self._note_lost(error)
            return False
        self._lease_until = sent_at + self._ttl
        if not self._connected:
            log.warning("event=cluster_coordination_restored member=%s", self.me.id)
            self._connected = True
        return True

    async def read_members(self) -> list[Member] | None:
        """The live members, sorted by id; None when Redis cannot be read."""
        try:
            ids = sorted(_text(i) for i in await self._client.smembers(self.index_key))
            addrs = await self._client.mget([self.member_key(i) for i in ids]) if ids else []
            dead = [i for i, addr in zip(ids, addrs, strict=True) if addr is None]
            if dead:
                await self._client.srem(self.index_key, *dead)
        except redis.RedisError as error:
            self._note_lost(error)
            return None
        for member_id in dead:
            log.info("event=cluster_member_expired member=%s by=%s", member_id, self.me.id)
        return [
            Member(i, _text(addr)) for i, addr in zip(ids, addrs, strict=True) if addr is not None
        ]

    async def leave(self) -> None:
        """Delete this member's key so the others take over at their next read."""
        self._lease_until = float("-inf")
        try:
            pipe = self._client.pipeline(transaction=True)
            pipe.delete(self.member_key(self.me.id))
            pipe.srem(self.index_key, self.me.id)
            await pipe.execute()
        except redis.RedisError as error:
            log.warning("event=cluster_leave_failed member=%s error=%r", self.me.id, error)

    def _note_lost(self, error: Exception) -> None:
        if self._connected:
            log.error(
                "event=cluster_coordination_lost member=%s error=%r "
                "rule=own_nothing_when_lease_ends",
                self.me.id,
                error,
            )
            self._connected = False


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value
