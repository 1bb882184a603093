"""Run a job once across the cluster and share its result, through mcond.

The first member to claim ``<prefix>claim:<job>`` (SET NX with a lease it keeps renewing
while it works) runs the job: ``add_processing``, the job, the result saved under
``<prefix>result:<job>``, ``add_completed``, ``broadcast``. Every other member waits with
``wait_for_available`` and reads the saved result. A claimant that dies stops renewing its
lease, so a waiter claims the job after at most one lease and runs it itself.

A failed job is shared as a failure: every waiter raises :class:`JobFailed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis
import redis.asyncio

from sabamon.mcond import AsyncMCond, MCondStateError
from sabamon.mcond.state import complete_key
from sabamon.server.cluster import CLAIM_LEASE

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[Any]]

RESULT_TTL = 3600.0

# Extend the lease only while we still hold it.
_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""


class CoordinationLost(RuntimeError):
    """Redis cannot be reached, so the job cannot be run once; it is skipped."""


class JobFailed(RuntimeError):
    """The member that ran the job reported an error."""


class JobRunner:
    """``run_once(job_key, fn)`` for one member; job keys must be unique per run."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        mcond: AsyncMCond,
        member_id: str,
        *,
        prefix: str = "sabamon:cluster:",
        claim_lease: float = CLAIM_LEASE,
        result_ttl: float = RESULT_TTL,
    ) -> None:
        self._client = client
        self._mcond = mcond
        self._member_id = member_id
        self._prefix = prefix
        self._lease_ms = int(claim_lease * 1000)
        self._result_ttl_ms = int(result_ttl * 1000)
        self._renew = client.register_script(_RENEW)

    async def run_once(self, job_key: str, fn: Job, timeout: float | None = None) -> Any:
        """Run ``fn`` here if no member has, else wait for the result it shared.

        Raises :class:`CoordinationLost` when Redis fails, :class:`JobFailed` when the job
        raised on the member that ran it, TimeoutError after ``timeout`` seconds.
        """
        key = f"{self._prefix}{job_key}"
        self._mcond.add_cond(key)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while True:
                shared = await self._client.get(self._result_key(key))
                if shared is not None:
                    return _unpack(job_key, shared)
                if await self._claim(key):
                    return await self._run(job_key, key, fn)
                wait = self._lease_ms / 1000
                if deadline is not None:
                    wait = min(wait, deadline - time.monotonic())
                    if wait <= 0:
                        raise TimeoutError(f"job {job_key!r} not done within {timeout} s")
                await self._mcond.wait_for_available(key, timeout=wait)
        except (redis.RedisError, MCondStateError) as error:
            raise CoordinationLost(f"job {job_key!r}: redis unreachable: {error}") from error

    async def _claim(self, key: str) -> bool:
        claimed = await self._client.set(
            self._claim_key(key), self._member_id, nx=True, px=self._lease_ms
        )
        return bool(claimed)

    async def _run(self, job_key: str, key: str, fn: Job) -> Any:
        await self._mcond.add_processing(key)
        renewer = asyncio.create_task(self._keep_claim(key))
        started = time.monotonic()
        try:
            value = await fn()
            record = {"ok": True, "value": value}
        except Exception as error:
            record = {"ok": False, "error": repr(error)}
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
        await self._client.set(self._result_key(key), orjson.dumps(record), px=self._result_ttl_ms)
        await self._mcond.add_completed(key)
        # mcond's complete key has no TTL of its own; one per job would pile up.
        await self._client.pexpire(complete_key(key), self._result_ttl_ms)
        await self._client.delete(self._claim_key(key))
        await self._mcond.broadcast(key)
        log.info(
            "event=job_ran job=%s member=%s ok=%s seconds=%.3f",
            job_key,
            self._member_id,
            record["ok"],
            time.monotonic() - started,
        )
        return _unpack(job_key, orjson.dumps(record))

    async def _keep_claim(self, key: str) -> None:
        while True:
            await asyncio.sleep(self._lease_ms / 3000)
            try:
                claim = self._claim_key(key)
                await self._renew(keys=[claim], args=[self._member_id, self._lease_ms])
            except redis.RedisError as error:
                log.warning("event=job_claim_renew_failed key=%s error=%r", key, error)

    def _claim_key(self, key: str) -> str:
        return f"{self._prefix}claim:{key.removeprefix(self._prefix)}"

    def _result_key(self, key: str) -> str:
        return f"{self._prefix}result:{key.removeprefix(self._prefix)}"


def _unpack(job_key: str, raw: str | bytes) -> Any:
    record = orjson.loads(raw)
    if not record.get("ok"):
        raise JobFailed(f"job {job_key!r} failed: {record.get('error')}")
    return record.get("value")
