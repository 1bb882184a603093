"""Delivery: retries with back-off, a failing channel never holds back the others, and
every attempt is visible in the delivery log."""

from __future__ import annotations

from tests.server.notify.receiver import receiving
from tests.support.prometheus import sample

from sabamon.server.notify.channels import validate_channel
from sabamon.server.notify.delivery import DeliveryWorker, backoff
from sabamon.server.notify.payload import sample_body
from sabamon.server.store import Store
from sabamon.server.store.records import Document, NewDelivery
from sabamon.server.telemetry import Telemetry


class Clock:
    now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def notifications(telemetry: Telemetry, channel_type: str) -> dict[str, float | None]:
    """/metrics' notification attempts of one channel type, by outcome."""
    text = telemetry.render().decode()
    name = "sabamon_notifications_total"
    return {
        outcome: sample(text, name, channel_type=channel_type, outcome=outcome)
        for outcome in ("sent", "retry", "failed")
    }


def test_backoff_doubles_up_to_an_hour() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(20) == 3600


async def test_failing_channel_retries_without_blocking_others(store: Store, org_id: str) -> None:
    clock = Clock()
    with receiving(fail_first=3) as flaky, receiving() as healthy:
        for channel_id, url in (("flaky", flaky.url), ("healthy", healthy.url)):
            spec = validate_channel({"type": "webhook", "name": channel_id, "url": url})
            await store.put_document(org_id, "channel", Document(channel_id, spec), 0)
        body = sample_body("webhook")
        await store.enqueue_deliveries(
            org_id, [NewDelivery("flaky", "e1", body), NewDelivery("healthy", "e1", body)], 0
        )
        telemetry = Telemetry()
        worker = DeliveryWorker(store, clock, telemetry=telemetry)
        assert await worker.run_once() == 2
        assert healthy.bodies == [
            {"event": "sample", "message": "Sample Notification from Mackerel"}
        ]
        log = {d.channel_id: d for d in await store.list_deliveries(org_id)}
        assert log["healthy"].state == "sent"
        assert (log["flaky"].state, log["flaky"].attempts) == ("pending", 1)
        assert log["flaky"].last_error is not None and "503" in log["flaky"].last_error
        assert log["flaky"].next_attempt_at == clock.now + 30
        assert await worker.run_once() == 0  # not due yet
        for delay in (30, 60, 120):
            clock.now += delay
            assert await worker.run_once() == 1
        assert flaky.bodies == [body]
        assert notifications(telemetry, "webhook") == {"sent": 2, "retry": 3, "failed": None}
        flaky_log = await store.list_deliveries(org_id, "flaky")
        assert (flaky_log[0].state, flaky_log[0].attempts, flaky_log[0].last_error) == (
            "sent",
            4,
            None,
        )


async def test_gives_up_after_max_attempts(store: Store, org_id: str) -> None:
    clock = Clock()
    with receiving(fail_first=100) as broken:
        spec = validate_channel({"type": "slack", "name": "s", "url": broken.url})
        await store.put_document(org_id, "channel", Document("s", spec), 0)
        await store.enqueue_deliveries(org_id, [NewDelivery("s", "e", {"text": "x"})], 0)
        telemetry = Telemetry()
        worker = DeliveryWorker(
            store, clock, max_attempts=2, backoff=lambda n: 1, telemetry=telemetry
        )
        await worker.run_once()
        clock.now += 1
        await worker.run_once()
        clock.now += 1
        assert await worker.run_once() == 0
        assert (await store.list_deliveries(org_id))[0].state == "failed"
        assert notifications(telemetry, "slack") == {"sent": None, "retry": 1, "failed": 1}


async def test_a_claim_expires_when_its_sender_dies(store: Store, org_id: str) -> None:
    await store.enqueue_deliveries(org_id, [NewDelivery("c", "e", {"x": 1})], 0)
    [claimed] = await store.claim_deliveries(0, 120, 10)
    assert (await store.list_deliveries(org_id))[0].state == "sending"
    assert await store.claim_deliveries(119, 120, 10) == []  # still held
    [again] = await store.claim_deliveries(120, 120, 10)  # the sender never finished
    assert again.id == claimed.id


async def test_two_workers_over_one_database_send_each_notification_once(
    postgres_dsn: str,
) -> None:
    """Two servers' workers share one PostgreSQL schema and one webhook receiver."""
    import asyncio

    from sabamon.server.store.postgres import PostgresBackend

    stores = [Store(PostgresBackend(postgres_dsn, pool_size=4)) for _ in range(2)]
    for opened in stores:
        await opened.open()
    try:
        org, _ = await stores[0].ensure_org("test")
        clock = Clock()
        # the receiver answers nobody until both workers' first claims (7 each) are sending:
        # each worker waits for its own, so the other worker must have claimed too
        with receiving(hold_until=14) as receiver:
            spec = validate_channel({"type": "webhook", "name": "hook", "url": receiver.url})
            await stores[0].put_document(org.id, "channel", Document("hook", spec), 0)
            events = [NewDelivery("hook", f"e{i}", {"n": i}) for i in range(60)]
            await stores[0].enqueue_deliveries(org.id, events, 0)
            workers = [DeliveryWorker(s, clock, batch=7) for s in stores]

            async def drain(worker: DeliveryWorker) -> int:
                sent = 0
                while attempted := await worker.run_once():
                    sent += attempted
                return sent

            shares = await asyncio.gather(*(drain(w) for w in workers))
            assert sum(shares) == 60 and min(shares) > 0  # both took part, none twice
            assert sorted(b["n"] for b in receiver.wait_for(60)) == list(range(60))
            assert receiver.requests == 60
        log = await stores[1].list_deliveries(org.id, limit=100)
        assert {d.state for d in log} == {"sent"} and len(log) == 60
    finally:
        for opened in stores:
            await opened.close()
