"""Services, roles and service metrics (spec §4). Services and roles are addressed by name."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sabamon.server.api.common import ERROR_RESPONSES, JsonBodyRoute
from sabamon.server.api.deps import ReadKey, ServerState, State, WriteKey
from sabamon.server.api.errors import BadRequest, NotFoundError
from sabamon.server.api.models import (
    MetricsOut,
    NameMemoIn,
    NamesOut,
    RoleOut,
    RolesOut,
    ServiceOut,
    ServicesOut,
    Success,
)
from sabamon.server.api.tsdb import commit_points, points_body_schema, read_series, write_window
from sabamon.server.api.validation import check_service_or_role_name, parse_json, service_points
from sabamon.server.store.records import Service

router = APIRouter(
    prefix="/api/v0", tags=["services"], responses=ERROR_RESPONSES, route_class=JsonBodyRoute
)

EXTERNAL_MONITOR_PREFIX = "__externalhttp."
SEGMENT = "[-a-zA-Z0-9_]+"
"""What a graph name's wildcard segment matches (spec §3)."""


def service_out(service: Service) -> ServiceOut:
    return ServiceOut(name=service.name, memo=service.memo, roles=sorted(service.roles))


async def require_service(state: ServerState, org_id: str, name: str) -> Service:
    for service in await state.store.list_services(org_id):
        if service.name == name:
            return service
    raise NotFoundError(f"Service {name!r} not found.")


@router.get("/services")
async def list_services(key: ReadKey, state: State) -> ServicesOut:
    services = await state.store.list_services(key.org_id)
    return ServicesOut(services=[service_out(service) for service in services])


@router.post("/services")
async def create_service(body: NameMemoIn, key: WriteKey, state: State) -> ServiceOut:
    name = check_service_or_role_name(body.name, "name")
    return service_out(await state.store.create_service(key.org_id, name, body.memo))


@router.delete("/services/{service}")
async def delete_service(service: str, key: WriteKey, state: State) -> ServiceOut:
    return service_out(await state.store.delete_service(key.org_id, service))


def graph_metric_pattern(graph_name: str) -> re.Pattern[str]:
    """The metric names a service graph shows (see web/graphs.py): a definition's name
    with `*`/`#` matching one segment each; a name without a wildcard is a prefix graph,
    the names with one more segment."""
    if "*" not in graph_name and "#" not in graph_name:
        graph_name += ".*"
    segments = (
        SEGMENT if part in ("*", "#") else re.escape(part) for part in graph_name.split(".")
    )
    return re.compile(r"\.".join(segments))


@router.delete("/services/{service}/graph-defs/{graph_name}")
async def delete_service_graph(
    service: str, graph_name: str, key: WriteKey, state: State
) -> Success:
    """Deletes the service metrics the graph shows; the graph returns with their next post."""
    await require_service(state, key.org_id, service)
    pattern = graph_metric_pattern(graph_name)
    names = await state.store.series.metric_names(key.org_id, "service", service)
    shown = [name for name in names if pattern.fullmatch(name)]
    if shown:
        await state.store.delete_service_metrics(key.org_id, service, shown)
    return Success()


@router.get("/services/{service}/roles")
async def list_roles(service: str, key: ReadKey, state: State) -> RolesOut:
    roles = await state.store.list_roles(key.org_id, service)
    return RolesOut(roles=[RoleOut(name=role.name, memo=role.memo) for role in roles])


@router.post("/services/{service}/roles")
async def create_role(service: str, body: NameMemoIn, key: WriteKey, state: State) -> RoleOut:
    name = check_service_or_role_name(body.name, "name")
    await require_service(state, key.org_id, service)
    role = await state.store.create_role(key.org_id, service, name, body.memo)
    return RoleOut(name=role.name, memo=role.memo)


@router.delete("/services/{service}/roles/{role}")
async def delete_role(service: str, role: str, key: WriteKey, state: State) -> RoleOut:
    deleted = await state.store.delete_role(key.org_id, service, role)
    return RoleOut(name=deleted.name, memo=deleted.memo)


@router.get("/services/{service}/metric-names")
async def service_metric_names(service: str, key: ReadKey, state: State) -> NamesOut:
    await require_service(state, key.org_id, service)
    names = await state.store.series.metric_names(key.org_id, "service", service)
    return NamesOut(names=[name for name in names if not name.startswith(EXTERNAL_MONITOR_PREFIX)])


@router.post(
    "/services/{service}/tsdb", response_model=Success, openapi_extra=points_body_schema(None)
)
async def post_service_metrics(
    service: str, request: Request, key: WriteKey, state: State
) -> Response:
    try:
        parsed = service_points(parse_json(await request.body()))
    except BadRequest:
        state.telemetry.rejected_batches.inc()
        raise
    await require_service(state, key.org_id, service)
    parsed.points = [replace(point, owner_id=service) for point in parsed.points]
    return await commit_points(state, key.org_id, "service", parsed, write_window(request, state))


@router.get("/services/{service}/metrics")
async def service_metrics(
    service: str,
    name: str,
    frm: Annotated[int, Query(alias="from", ge=0, lt=2**40)],
    to: Annotated[int, Query(ge=0, lt=2**40)],
    key: ReadKey,
    state: State,
) -> MetricsOut:
    await require_service(state, key.org_id, service)
    return await read_series(state, key.org_id, "service", service, name, frm, to)
