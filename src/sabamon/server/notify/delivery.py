"""The delivery worker: sends queued notifications, retrying failures with back-off.

Deliveries live in the store (the queue is the delivery log): each attempt is recorded
with its error, a failure is retried after `backoff(attempts)` seconds, and after
`max_attempts` the delivery is marked failed.

Each delivery is its own task with one deadline for the whole attempt (`SEND_TIMEOUT`:
connect, send and the whole response, or the whole SMTP dialogue), and the worker keeps
claiming new due deliveries while earlier ones are still being sent, at most
`MAX_SENDING` at a time: a slow or failing channel delays no other channel.

Several servers may run a worker over one database: a worker first claims what it sends
(state `sending` for `lease` seconds), so each delivery leaves once; the claim of a
worker that died mid-send runs out and the delivery is due again.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import httpx

from sabamon.server.notify.email import SmtpSettings, send_mail
from sabamon.server.notify.payload import GRAPH_CID
from sabamon.server.notify.webhook import SendError, post_json
from sabamon.server.outbound import OutboundPolicy, outbound_client
from sabamon.server.store import Store
from sabamon.server.store.records import Delivery, NotFound
from sabamon.server.telemetry import Telemetry

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
SEND_TIMEOUT = 10.0
"""Seconds one attempt may take in all (a receiver trickling its answer fails at this)."""
LEASE = 120
"""Seconds a claim holds: well above an attempt's deadline (`SEND_TIMEOUT`)."""
MAX_SENDING = 100
"""Attempts in progress at once per worker; more due deliveries wait for the next round."""


def backoff(attempts: int, base: int = 30, cap: int = 3600) -> int:
    """Seconds before the next attempt: 30 s, 60 s, 120 s ... at most an hour."""
    return int(min(cap, base * 2 ** max(0, attempts - 1)))


async def send(
    channel: dict[str, Any],
    payload: dict[str, Any],
    client: httpx.AsyncClient,
    smtp: SmtpSettings,
    deadline: float = SEND_TIMEOUT,
) -> None:
    """Sends one payload to one channel within `deadline` seconds; raises SendError."""
    try:
        async with asyncio.timeout(deadline):
            if channel["type"] == "email":
                emails = channel.get("emails", [])
                graph = payload.get("graphPng")
                images = {GRAPH_CID: base64.b64decode(graph)} if graph else None
                await send_mail(
                    smtp, emails, payload["subject"], payload["text"], payload.get("html"), images
                )
            else:
                await post_json(client, channel["url"], payload)
    except TimeoutError:
        raise SendError(f"no complete answer within {deadline:g} s") from None


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        clock: Callable[[], float],
        smtp: SmtpSettings | None = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: Callable[[int], int] = backoff,
        batch: int = 200,
        lease: int = LEASE,
        telemetry: Telemetry | None = None,
        outbound: OutboundPolicy | None = None,
        max_sending: int = MAX_SENDING,
        send_timeout: float = SEND_TIMEOUT,
    ) -> None:
        self.store, self.clock, self.smtp = store, clock, smtp or SmtpSettings()
        self.max_attempts, self.backoff, self.batch = max_attempts, backoff, batch
        self.lease, self.telemetry = lease, telemetry
        self.max_sending, self.send_timeout = max_sending, send_timeout
        self.outbound = outbound or OutboundPolicy()
        self.wake = asyncio.Event()
        self.sending: set[asyncio.Task[None]] = set()

    async def start_due(self, client: httpx.AsyncClient) -> int:
        """Claims due deliveries (as many as free sending slots) and starts an attempt
        task for each; returns how many were started."""
        room = min(self.batch, self.max_sending - len(self.sending))
        if room <= 0:
            return 0
        due = await self.store.claim_deliveries(int(self.clock()), self.lease, room)
        for delivery in due:
            task = asyncio.create_task(self._attempt(delivery, client))
            self.sending.add(task)
            task.add_done_callback(self.sending.discard)
        return len(due)

    async def run_once(self) -> int:
        """Claims the due deliveries and waits for one attempt of each; returns how many."""
        async with outbound_client(self.outbound, self.send_timeout) as client:
            started = await self.start_due(client)
            if self.sending:
                await asyncio.wait(set(self.sending))
        return started

    async def _attempt(self, delivery: Delivery, client: httpx.AsyncClient) -> None:
        try:
            await self._attempt_once(delivery, client)
        except Exception as exc:  # the store failed: the claim runs out and it is due again
            log.error("event=delivery_attempt_failed delivery=%s error=%r", delivery.id, exc)
        finally:
            if len(self.sending) >= self.max_sending:
                self.wake.set()  # a slot frees up: claim the deliveries left waiting

    async def _attempt_once(self, delivery: Delivery, client: httpx.AsyncClient) -> None:
        attempts = delivery.attempts + 1
        channel_type = "unknown"  # a channel deleted since the alert
        try:
            channel = await self.store.get_document(delivery.org_id, "channel", delivery.channel_id)
            channel_type = str(channel.spec.get("type", "unknown"))
            await send(channel.spec, delivery.payload, client, self.smtp, self.send_timeout)
        except (SendError, NotFound) as exc:
            now = int(self.clock())
            error = "channel deleted" if isinstance(exc, NotFound) else str(exc)
            final = attempts >= self.max_attempts or isinstance(exc, NotFound)
            state = "failed" if final else "pending"
            retry_at = now + self.backoff(attempts)
            await self.store.finish_delivery(delivery.id, state, attempts, retry_at, error, now)
            self._count(channel_type, "failed" if final else "retry")
            log.warning(
                "event=delivery_failed delivery=%s channel=%s attempts=%d state=%s error=%r",
                delivery.id, delivery.channel_id, attempts, state, error,
            )  # fmt: skip
            return
        now = int(self.clock())
        await self.store.finish_delivery(delivery.id, "sent", attempts, now, None, now)
        self._count(channel_type, "sent")
        log.info(
            "event=delivery_sent delivery=%s channel=%s attempts=%d",
            delivery.id, delivery.channel_id, attempts,
        )  # fmt: skip

    def _count(self, channel_type: str, outcome: str) -> None:
        if self.telemetry is not None:
            self.telemetry.notifications.labels(channel_type, outcome).inc()

    async def run(self, stop: asyncio.Event, poll_interval: float = 5.0) -> None:
        """Runs until `stop`; `wake` (set by the engine, or by an attempt ending) starts a
        round early. On stop, attempts in progress get their deadline to finish."""
        async with outbound_client(self.outbound, self.send_timeout) as client:
            while not stop.is_set():
                try:
                    await self.start_due(client)
                except Exception as exc:
                    log.error("event=delivery_round_failed error=%r", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=poll_interval)
                self.wake.clear()
            if self.sending:
                await asyncio.wait(set(self.sending))
