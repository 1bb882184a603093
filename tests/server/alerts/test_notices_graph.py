"""An alert's graph is drawn only for an event someone receives, and published only for a
channel that shows graph images (`notices.with_graph`), on a real store."""

from __future__ import annotations

from sabamon.server.alerts import notices
from sabamon.server.notify import images
from sabamon.server.notify.events import AlertEvent
from sabamon.server.store import Store
from sabamon.server.store.records import Document, HostInput, Point

NOW = 1_700_000_040
OPENED = NOW - 600


async def loaded_event(store: Store, org_id: str) -> AlertEvent:
    host_id = await store.create_host(org_id, HostInput(name="web-1"), NOW - 3600)
    points = [Point(host_id, "loadavg5", t, 9.0) for t in range(NOW - 1200, NOW, 60)]
    await store.series.write_points(org_id, "host", points, NOW)
    monitor = {"id": "m1", "type": "host", "name": "load", "metric": "loadavg5",
               "operator": ">", "critical": 4.0}  # fmt: skip
    alert = {"id": "a1", "status": "CRITICAL", "monitorId": "m1", "hostId": host_id,
             "openedAt": OPENED, "value": 9.0}  # fmt: skip
    return AlertEvent(
        org_name="test", base_url="https://mon.example", alert=alert, monitor=monitor,
        trigger="monitoring", changed_at=NOW - 60, message="", host={"name": "web-1"},
    )  # fmt: skip


async def published_images(store: Store, event: AlertEvent) -> bool:
    assert event.graph is not None and event.graph.image_url is not None
    token = event.graph.image_url.rsplit("/", 1)[1].removesuffix(".png")
    return await store.graph_image(images.token_digest(token), NOW) is not None


async def test_an_event_routed_to_no_channel_draws_nothing(store: Store, org_id: str) -> None:
    event = await loaded_event(store, org_id)
    drawn = await notices.with_graph(store, org_id, event, [], publish_image=True)
    assert drawn.graph is None


async def test_the_image_is_published_only_for_a_channel_that_shows_it(
    store: Store, org_id: str
) -> None:
    event = await loaded_event(store, org_id)
    mail = Document("c1", {"type": "email", "name": "ops", "emails": ["ops@example.com"]})
    hook = Document("c2", {"type": "webhook", "name": "hook", "url": "https://h.example/",
                           "enabledGraphImage": True})  # fmt: skip

    for_mail = await notices.with_graph(store, org_id, event, [mail], publish_image=True)
    assert for_mail.graph is not None and for_mail.graph.png is not None
    assert for_mail.graph.image_url is None

    for_hook = await notices.with_graph(store, org_id, event, [mail, hook], publish_image=True)
    assert await published_images(store, for_hook)

    unpublished = await notices.with_graph(store, org_id, event, [hook], publish_image=False)
    assert unpublished.graph is not None and unpublished.graph.image_url is None
