"""Hosts: register, update, look up, list, status, roles, retire (spec §2)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request

from sabamon.server.api.common import ERROR_RESPONSES, JsonBodyRoute
from sabamon.server.api.deps import ReadKey, State, WriteKey
from sabamon.server.api.errors import BadRequest
from sabamon.server.api.models import (
    BulkRetireIn,
    BulkStatusIn,
    HostEnvelope,
    HostIn,
    HostOut,
    HostsOut,
    IdOut,
    NamesOut,
    RoleFullnamesIn,
    StatusIn,
    Success,
)
from sabamon.server.api.validation import MAX_ROLES_PER_HOST, role_fullname
from sabamon.server.state import alert_closer
from sabamon.server.store.records import HostFilter, HostInput, HostStatus

router = APIRouter(
    prefix="/api/v0", tags=["hosts"], responses=ERROR_RESPONSES, route_class=JsonBodyRoute
)


def host_input(body: HostIn) -> HostInput:
    return HostInput(
        name=body.name,
        display_name=body.display_name,
        custom_identifier=body.custom_identifier or None,
        memo=body.memo,
        meta=body.meta,
        interfaces=body.interfaces,
        role_fullnames=role_fullnames(body.role_fullnames),
        checks=[check.model_dump(exclude_none=True) for check in body.checks],
    )


def role_fullnames(values: list[str]) -> list[str]:
    if len(values) > MAX_ROLES_PER_HOST:
        raise BadRequest(f"roleFullnames: at most {MAX_ROLES_PER_HOST} roles per host")
    return [role_fullname(value, f"roleFullnames[{i}]") for i, value in enumerate(values)]


@router.post("/hosts")
async def create_host(body: HostIn, key: WriteKey, state: State) -> IdOut:
    return IdOut(id=await state.store.create_host(key.org_id, host_input(body), state.now()))


@router.get("/hosts/{host_id}")
async def get_host(host_id: str, key: ReadKey, state: State) -> HostEnvelope:
    return HostEnvelope(host=HostOut.of(await state.store.get_host(key.org_id, host_id)))


@router.put("/hosts/{host_id}")
async def update_host(host_id: str, body: HostIn, key: WriteKey, state: State) -> IdOut:
    await state.store.update_host(key.org_id, host_id, host_input(body))
    return IdOut(id=host_id)


@router.get("/hosts-by-custom-identifier/{custom_identifier:path}")
async def find_host_by_custom_identifier(
    custom_identifier: str,
    key: ReadKey,
    state: State,
    case_insensitive: Annotated[bool, Query(alias="caseInsensitive")] = False,
) -> HostEnvelope:
    host = await state.store.find_host_by_custom_identifier(
        key.org_id, custom_identifier, case_insensitive
    )
    return HostEnvelope(host=HostOut.of(host))


@router.get("/hosts")
@router.get("/hosts.json", include_in_schema=False)
async def list_hosts(
    key: ReadKey,
    state: State,
    service: str | None = None,
    role: Annotated[list[str] | None, Query()] = None,
    name: str | None = None,
    status: Annotated[list[HostStatus] | None, Query()] = None,
    custom_identifier: Annotated[str | None, Query(alias="customIdentifier")] = None,
) -> HostsOut:
    flt = HostFilter(
        service=service,
        roles=tuple(role or ()) if service else (),
        name=name,
        statuses=tuple(status) if status else ("working", "standby"),
        custom_identifier=custom_identifier,
    )
    hosts = await state.store.list_hosts(key.org_id, flt)
    return HostsOut(hosts=[HostOut.of(host) for host in hosts])


@router.post("/hosts/{host_id}/status")
async def set_host_status(host_id: str, body: StatusIn, key: WriteKey, state: State) -> Success:
    await state.store.set_host_status(key.org_id, [host_id], body.status)
    return Success()


@router.post("/hosts/bulk-update-statuses")
async def bulk_update_statuses(body: BulkStatusIn, key: WriteKey, state: State) -> Success:
    await state.store.set_host_status(key.org_id, body.ids, body.status)
    return Success()


@router.put("/hosts/{host_id}/role-fullnames")
async def set_role_fullnames(
    host_id: str, body: RoleFullnamesIn, key: WriteKey, state: State
) -> Success:
    names = role_fullnames(body.role_fullnames)
    await state.store.set_host_role_fullnames(key.org_id, host_id, names)
    return Success()


@router.post("/hosts/{host_id}/retire")
async def retire_host(
    host_id: str,
    request: Request,
    key: WriteKey,
    state: State,
    _body: Annotated[dict[str, object] | None, Body(description="{} or empty")] = None,
) -> Success:
    """Retires the host; the body is `{}` or empty (a Python client sends none)."""
    await state.store.retire_hosts(key.org_id, [host_id], state.now())
    state.live_hosts.discard((key.org_id, host_id))
    await (await alert_closer(request, state)).close_host_alerts(key.org_id, [host_id], state.now())
    return Success()


@router.post("/hosts/bulk-retire")
async def bulk_retire(body: BulkRetireIn, request: Request, key: WriteKey, state: State) -> Success:
    await state.store.retire_hosts(key.org_id, body.ids, state.now())
    await (await alert_closer(request, state)).close_host_alerts(key.org_id, body.ids, state.now())
    for host_id in body.ids:
        state.live_hosts.discard((key.org_id, host_id))
    return Success()


@router.get("/hosts/{host_id}/metric-names")
async def host_metric_names(host_id: str, key: ReadKey, state: State) -> NamesOut:
    await state.store.get_host(key.org_id, host_id)
    return NamesOut(names=await state.store.series.metric_names(key.org_id, "host", host_id))
