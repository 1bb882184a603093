"""Delivery against hostile receivers: a trickling webhook times out on its own and holds
back no other channel; targets outside `--outbound-networks` are never contacted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tests.server.notify.receiver import receiving
from tests.server.trickle import hostile_peer

from sabamon.server.notify.channels import validate_channel
from sabamon.server.notify.delivery import DeliveryWorker
from sabamon.server.notify.payload import sample_body
from sabamon.server.outbound import OutboundPolicy
from sabamon.server.store import Store
from sabamon.server.store.records import Document, NewDelivery


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.01)


async def add_channel(store: Store, org_id: str, channel_id: str, url: str) -> None:
    spec = validate_channel({"type": "webhook", "name": channel_id, "url": url})
    await store.put_document(org_id, "channel", Document(channel_id, spec), 0)


async def test_a_trickling_receiver_times_out_and_holds_back_no_other_channel(
    store: Store, org_id: str
) -> None:
    body = sample_body("webhook")
    with hostile_peer("trickle") as slow_url, receiving() as healthy:
        await add_channel(store, org_id, "slow", slow_url)
        await add_channel(store, org_id, "healthy", healthy.url)
        await store.enqueue_deliveries(
            org_id, [NewDelivery("slow", "e1", body), NewDelivery("healthy", "e1", body)], 0
        )
        worker = DeliveryWorker(store, Clock(), send_timeout=3.0)
        stop = asyncio.Event()
        running = asyncio.create_task(worker.run(stop, poll_interval=0.05))
        await until(lambda: len(healthy.bodies) == 1)
        # a later notification to the healthy channel leaves while the slow one still sends
        await store.enqueue_deliveries(org_id, [NewDelivery("healthy", "e2", body)], 0)
        worker.wake.set()
        await until(lambda: len(healthy.bodies) == 2)
        [slow] = await store.list_deliveries(org_id, "slow")
        assert slow.state == "sending"
        started = time.monotonic()
        while (await store.list_deliveries(org_id, "slow"))[0].state == "sending":
            assert time.monotonic() - started < 10, "the slow delivery never timed out"
            await asyncio.sleep(0.05)
        stop.set()
        await running
    [slow] = await store.list_deliveries(org_id, "slow")
    assert (slow.state, slow.attempts) == ("pending", 1)
    assert slow.last_error == "no complete answer within 3 s"


async def test_webhooks_outside_the_allowed_networks_are_not_contacted(
    store: Store, org_id: str
) -> None:
    with receiving() as receiver:
        await add_channel(store, org_id, "inside", receiver.url)
        await store.enqueue_deliveries(
            org_id, [NewDelivery("inside", "e1", sample_body("webhook"))], 0
        )
        worker = DeliveryWorker(store, Clock(), outbound=OutboundPolicy.parse("10.0.0.0/8"))
        assert await worker.run_once() == 1
        assert receiver.requests == 0
    [delivery] = await store.list_deliveries(org_id, "inside")
    assert delivery.state == "pending"
    assert delivery.last_error is not None
    assert "127.0.0.1" in delivery.last_error and "outside the allowed" in delivery.last_error


async def test_a_channel_url_no_request_can_take_is_a_failed_attempt(
    store: Store, org_id: str
) -> None:
    """A URL saved before the save-time check (a port past 65535) fails its own attempt and
    is retried with back-off like any refusal, instead of an error each lease forever."""
    with receiving() as healthy:
        await add_channel(store, org_id, "healthy", healthy.url)
        spec = {**validate_channel({"type": "webhook", "name": "old", "url": healthy.url})}
        spec["url"] = "http://127.0.0.1:99999/"
        await store.put_document(org_id, "channel", Document("old", spec), 0)
        body = sample_body("webhook")
        await store.enqueue_deliveries(
            org_id, [NewDelivery("old", "e1", body), NewDelivery("healthy", "e1", body)], 0
        )
        assert await DeliveryWorker(store, Clock()).run_once() == 2
        assert len(healthy.bodies) == 1
    [old] = await store.list_deliveries(org_id, "old")
    assert (old.state, old.attempts) == ("pending", 1)
    assert old.last_error is not None and old.last_error.startswith("OverflowError:")
