"""Per-organisation rules the store keeps inside one transaction, on both backends: a
deleted channel, group or monitor is named by no notification group afterwards, and the
bounds on graph definitions and metadata namespaces hold under concurrent writes."""

from __future__ import annotations

import asyncio
from typing import Any

from sabamon.server.notify.groups import route
from sabamon.server.store import Store
from sabamon.server.store.records import Document, GraphDef, MetadataOwner

NOW = 1_700_000_000


def group(name: str, channels: list[str], groups: list[str], monitors: list[str]) -> Document:
    return Document(
        name,
        {
            "type": "group", "name": name, "notificationLevel": "all",
            "childChannelIds": channels, "childNotificationGroupIds": groups,
            "monitors": [{"id": m, "skipDefault": False} for m in monitors], "services": [],
        },
    )  # fmt: skip


def references(groups: list[Document]) -> dict[str, tuple[list[str], list[str], list[str]]]:
    return {
        g.id: (
            g.spec["childChannelIds"],
            g.spec["childNotificationGroupIds"],
            [m["id"] for m in g.spec["monitors"]],
        )
        for g in groups
    }


async def seed(store: Store, org_id: str) -> None:
    for channel in ("c1", "c2"):
        spec = {"type": "webhook", "name": channel, "url": "http://x", "events": ["alert"]}
        await store.put_document(org_id, "channel", Document(channel, spec), NOW)
    for monitor in ("m1", "m2"):
        spec = {"type": "expression", "name": monitor, "expression": "1"}
        await store.put_document(org_id, "monitor", Document(monitor, spec), NOW)
    await store.put_document(org_id, "notification_group", group("g2", ["c2"], [], []), NOW)
    g1 = group("g1", ["c1", "c2"], ["g2"], ["m1", "m2"])
    await store.put_document(org_id, "notification_group", g1, NOW)


async def test_deleting_a_channel_group_or_monitor_removes_it_from_every_group(
    store: Store, org_id: str
) -> None:
    await seed(store, org_id)
    await store.delete_document(org_id, "channel", "c2")
    await store.delete_document(org_id, "monitor", "m1")
    await store.delete_document(org_id, "notification_group", "g2")
    groups = await store.list_documents(org_id, "notification_group")
    assert references(groups) == {"g1": (["c1"], [], ["m2"])}
    channels = await store.list_documents(org_id, "channel")
    routed = route(
        groups, channels, monitor_id="m2", services=set(), status="CRITICAL", was_critical=False
    )
    assert routed == ["c1"]


async def test_a_group_written_after_a_deletion_drops_the_deleted_ids(
    store: Store, org_id: str
) -> None:
    """A group checked against the definitions before a concurrent deletion and written
    after it names none of the deleted ones."""
    await seed(store, org_id)
    await store.delete_document(org_id, "channel", "c1")
    await store.delete_document(org_id, "monitor", "m2")
    late = group("g3", ["c1", "c2"], ["g1", "g3", "gone"], ["m1", "m2"])
    assert await store.insert_document(org_id, "notification_group", late, NOW, 100)
    stale = group("g2", ["c1"], [], ["m2"])
    await store.put_document(org_id, "notification_group", stale, NOW)
    groups = await store.list_documents(org_id, "notification_group")
    assert references(groups) == {
        "g2": ([], [], []),
        "g1": (["c2"], ["g2"], ["m1"]),
        "g3": (["c2"], ["g1", "g3"], ["m1"]),
    }


async def test_concurrent_deletions_and_group_writes_leave_no_dangling_id(
    store: Store, org_id: str
) -> None:
    await seed(store, org_id)
    writes: list[Any] = [
        store.put_document(org_id, "notification_group", group(f"w{i}", ["c1"], [], ["m1"]), NOW)
        for i in range(10)
    ]
    writes[5:5] = [
        store.delete_document(org_id, "channel", "c1"),
        store.delete_document(org_id, "monitor", "m1"),
    ]
    await asyncio.gather(*writes)
    for ids in references(await store.list_documents(org_id, "notification_group")).values():
        assert "c1" not in ids[0] and "m1" not in ids[2]


async def test_concurrent_graph_def_posts_never_pass_the_limit(store: Store, org_id: str) -> None:
    posts = [
        store.upsert_graph_defs(org_id, [GraphDef(f"custom.g{i}", None, "float", [])], 10)
        for i in range(24)
    ]
    answers = await asyncio.gather(*posts)
    assert len(await store.list_graph_defs(org_id)) == 10
    assert sorted(a for a in answers if a is not None) == [(10, 1)] * 14
    # a post of names already stored is no growth: it passes at the limit
    stored = [GraphDef(d.name, "again", "float", []) for d in await store.list_graph_defs(org_id)]
    assert await store.upsert_graph_defs(org_id, stored, 10) is None


async def test_concurrent_metadata_puts_never_pass_the_namespace_limit(
    store: Store, org_id: str
) -> None:
    owner: MetadataOwner = ("service", "shop")
    puts = [store.put_metadata(org_id, owner, f"ns{i}", i, NOW, 3) for i in range(12)]
    assert sum(await asyncio.gather(*puts)) == 3
    names = await store.list_metadata(org_id, owner)
    assert len(names) == 3
    assert await store.put_metadata(org_id, owner, names[0], "again", NOW, 3)  # not new
