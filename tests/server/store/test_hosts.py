from __future__ import annotations

import pytest

from sabamon.server.store import HostFilter, HostInput, NotFound, Store, StoreError

NOW = 1_700_000_000


def host(name: str, **fields: object) -> HostInput:
    return HostInput(name=name, **fields)  # type: ignore[arg-type]


async def test_create_host_auto_creates_services_and_roles(store: Store, org_id: str) -> None:
    host_id = await store.create_host(
        org_id,
        host("web1", meta={"kernel": {"name": "Linux"}}, role_fullnames=["shop:web", "shop:db"]),
        NOW,
    )
    got = await store.get_host(org_id, host_id)
    assert (got.name, got.size, got.status, got.created_at) == ("web1", "standard", "working", NOW)
    assert got.roles == {"shop": ["db", "web"]}
    assert got.meta == {"kernel": {"name": "Linux"}}
    assert not got.is_retired
    services = await store.list_services(org_id)
    assert [(s.name, s.roles) for s in services] == [("shop", ["db", "web"])]


async def test_update_keeps_unlisted_roles_and_empty_custom_identifier_clears(
    store: Store, org_id: str
) -> None:
    host_id = await store.create_host(
        org_id, host("a", custom_identifier="ci-1", role_fullnames=["svc:web"]), NOW
    )
    await store.update_host(
        org_id, host_id, host("a2", custom_identifier="", role_fullnames=["svc:db"])
    )
    got = await store.get_host(org_id, host_id)
    assert got.name == "a2"
    assert got.custom_identifier is None
    assert got.roles == {"svc": ["db", "web"]}
    with pytest.raises(NotFound):
        await store.update_host(org_id, "nope", host("x"))


async def test_list_filters(store: Store, org_id: str) -> None:
    a = await store.create_host(org_id, host("a", role_fullnames=["svc:web"]), NOW)
    b = await store.create_host(org_id, host("b", role_fullnames=["svc:db"]), NOW + 1)
    c = await store.create_host(
        org_id, host("c", custom_identifier="i-c", role_fullnames=["svc:batch"]), NOW + 2
    )
    d = await store.create_host(org_id, host("d", role_fullnames=["other:web"]), NOW + 3)
    await store.set_host_status(org_id, [c], "maintenance")

    async def ids(flt: HostFilter) -> list[str]:
        return [h.id for h in await store.list_hosts(org_id, flt)]

    assert await ids(HostFilter()) == [a, b, d]  # default statuses: working + standby
    assert await ids(HostFilter(statuses=("working", "maintenance"))) == [a, b, c, d]
    assert await ids(HostFilter(service="svc", statuses=())) == [a, b, c]
    assert await ids(HostFilter(service="svc", roles=("web", "db"))) == [a, b]
    assert await ids(HostFilter(roles=("web",))) == [a, b, d]  # roles need a service
    assert await ids(HostFilter(name="b")) == [b]
    assert await ids(HostFilter(custom_identifier="i-c", statuses=("maintenance",))) == [c]
    by_ci = await store.find_host_by_custom_identifier(org_id, "I-C", case_insensitive=True)
    assert by_ci.id == c
    with pytest.raises(NotFound):
        await store.find_host_by_custom_identifier(org_id, "I-C")


async def test_custom_identifier_oldest_match_wins(store: Store, org_id: str) -> None:
    first = await store.create_host(org_id, host("a", custom_identifier="x"), NOW)
    await store.create_host(org_id, host("b", custom_identifier="x"), NOW + 5)
    assert (await store.find_host_by_custom_identifier(org_id, "x")).id == first
    await store.retire_hosts(org_id, [first], NOW + 10)
    assert (await store.find_host_by_custom_identifier(org_id, "x")).name == "b"


async def test_retire_and_bulk_operations_are_all_or_nothing(store: Store, org_id: str) -> None:
    a = await store.create_host(org_id, host("a"), NOW)
    b = await store.create_host(org_id, host("b"), NOW)
    with pytest.raises(NotFound, match="missing"):
        await store.set_host_status(org_id, [a, "missing"], "standby")
    assert (await store.get_host(org_id, a)).status == "working"
    with pytest.raises(NotFound):
        await store.retire_hosts(org_id, [a, "missing"], NOW + 60)
    assert not (await store.get_host(org_id, a)).is_retired

    await store.set_host_status(org_id, [a, b], "standby")
    assert {h.status for h in await store.list_hosts(org_id, HostFilter())} == {"standby"}
    await store.retire_hosts(org_id, [a], NOW + 60)
    retired = await store.get_host(org_id, a)
    assert (retired.is_retired, retired.retired_at) == (True, NOW + 60)
    assert [h.id for h in await store.list_hosts(org_id, HostFilter())] == [b]


async def test_role_fullnames_replace_the_set(store: Store, org_id: str) -> None:
    host_id = await store.create_host(org_id, host("a", role_fullnames=["s:one", "s:two"]), NOW)
    await store.set_host_role_fullnames(org_id, host_id, ["t:three"])
    assert (await store.get_host(org_id, host_id)).roles == {"t": ["three"]}
    with pytest.raises(StoreError, match="'bad'"):
        await store.set_host_role_fullnames(org_id, host_id, ["bad"])
    assert (await store.get_host(org_id, host_id)).roles == {"t": ["three"]}


async def test_hosts_are_scoped_by_org(store: Store, org_id: str) -> None:
    host_id = await store.create_host(org_id, host("a"), NOW)
    with pytest.raises(NotFound):
        await store.get_host("other-org", host_id)
    assert await store.list_hosts("other-org", HostFilter()) == []
