from __future__ import annotations

import pytest
from tests.server.store.series_helpers import read_values

from sabamon.server.store import (
    Conflict,
    GraphDef,
    HostInput,
    NotFound,
    Point,
    Role,
    Service,
    Store,
)

NOW = 1_700_006_400


async def test_services_and_roles(store: Store, org_id: str) -> None:
    assert await store.create_service(org_id, "shop", "the shop") == Service("shop", "the shop", [])
    with pytest.raises(Conflict):
        await store.create_service(org_id, "shop", "")
    await store.create_role(org_id, "shop", "web", "front")
    await store.create_role(org_id, "shop", "db", "")
    with pytest.raises(Conflict):
        await store.create_role(org_id, "shop", "db", "")
    with pytest.raises(NotFound):
        await store.create_role(org_id, "nope", "db", "")
    assert await store.list_services(org_id) == [Service("shop", "the shop", ["db", "web"])]
    assert [r.name for r in await store.list_roles(org_id, "shop")] == ["db", "web"]
    with pytest.raises(NotFound):
        await store.list_roles(org_id, "nope")


async def test_delete_role_cascades_to_hosts_and_metadata(store: Store, org_id: str) -> None:
    host_id = await store.create_host(
        org_id, HostInput(name="a", role_fullnames=["shop:web", "shop:db"]), NOW
    )
    await store.put_metadata(org_id, ("role", "shop:web"), "ns", {"x": 1}, NOW)
    assert await store.delete_role(org_id, "shop", "web") == Role("shop", "web", "")
    assert (await store.get_host(org_id, host_id)).roles == {"shop": ["db"]}
    assert await store.list_metadata(org_id, ("role", "shop:web")) == []
    with pytest.raises(NotFound):
        await store.delete_role(org_id, "shop", "web")


async def test_delete_service_cascades(store: Store, org_id: str) -> None:
    host_id = await store.create_host(
        org_id, HostInput(name="a", role_fullnames=["shop:web", "keep:db"]), NOW
    )
    await store.create_service(org_id, "shop_2", "")  # shares a prefix, must survive
    await store.put_metadata(org_id, ("service", "shop"), "ns", 1, NOW)
    await store.put_metadata(org_id, ("role", "shop:web"), "ns", 2, NOW)
    await store.put_metadata(org_id, ("role", "shop_2:x"), "ns", 3, NOW)
    await store.series.write_points(org_id, "service", [Point("shop", "orders", NOW, 1.0)], NOW)

    deleted = await store.delete_service(org_id, "shop")
    assert deleted == Service("shop", "", ["web"])
    assert [s.name for s in await store.list_services(org_id)] == ["keep", "shop_2"]
    assert (await store.get_host(org_id, host_id)).roles == {"keep": ["db"]}
    assert await store.series.metric_names(org_id, "service", "shop") == []
    assert (
        await read_values(store.series, org_id, "service", "shop", "orders", NOW - 60, NOW) is None
    )
    assert await store.list_metadata(org_id, ("role", "shop:web")) == []
    assert await store.list_metadata(org_id, ("role", "shop_2:x")) == ["ns"]
    with pytest.raises(NotFound):
        await store.delete_service(org_id, "shop")

    # a service re-created under the same name starts empty and takes new points
    await store.create_service(org_id, "shop", "")
    await store.series.write_points(org_id, "service", [Point("shop", "orders", NOW, 7.0)], NOW)
    got = await read_values(store.series, org_id, "service", "shop", "orders", NOW - 60, NOW)
    assert got == [(NOW, 7.0)]


async def test_graph_defs(store: Store, org_id: str) -> None:
    metrics = [{"name": "custom.a.*", "displayName": "%1", "isStacked": False}]
    await store.upsert_graph_defs(org_id, [GraphDef("custom.a.*", "A", "float", metrics)], 2)
    await store.upsert_graph_defs(
        org_id,
        [
            GraphDef("custom.a.*", "A2", "bytes", metrics),
            GraphDef("custom.b", None, "integer", []),
        ],
        2,
    )
    assert await store.list_graph_defs(org_id) == [
        GraphDef("custom.a.*", "A2", "bytes", metrics),
        GraphDef("custom.b", None, "integer", []),
    ]
    await store.delete_graph_def(org_id, "custom.b")
    with pytest.raises(NotFound):
        await store.delete_graph_def(org_id, "custom.b")
    assert [d.name for d in await store.list_graph_defs(org_id)] == ["custom.a.*"]


async def test_metadata_keeps_any_json_with_its_update_time(store: Store, org_id: str) -> None:
    owner = ("host", "h1")
    with pytest.raises(NotFound):
        await store.get_metadata(org_id, owner, "ns")  # type: ignore[arg-type]
    await store.put_metadata(org_id, owner, "ns", {"a": [1, 2]}, NOW)  # type: ignore[arg-type]
    await store.put_metadata(org_id, owner, "b", "text", NOW)  # type: ignore[arg-type]
    await store.put_metadata(org_id, owner, "ns", [None, 1.5], NOW + 60)  # type: ignore[arg-type]
    got = await store.get_metadata(org_id, owner, "ns")  # type: ignore[arg-type]
    assert (got.value, got.updated_at) == ([None, 1.5], NOW + 60)
    assert await store.list_metadata(org_id, owner) == ["b", "ns"]  # type: ignore[arg-type]
    await store.delete_metadata(org_id, owner, "b")  # type: ignore[arg-type]
    assert await store.list_metadata(org_id, owner) == ["ns"]  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        await store.delete_metadata(org_id, owner, "b")  # type: ignore[arg-type]
