"""The dashboard's pages: hosts, one host, services."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from sabamon.server.store.records import HostFilter, NotFound

from .alert_state import STALE_AFTER, summarise
from .data import STATUSES
from .graphs import ROLE_GRAPHS, GraphSpec, host_graphs, service_graphs
from .overview import GLANCE_METRICS, host_row, host_summary
from .render import missing, render
from .session import PageUser, State

router = APIRouter()


def graph_cards(graphs: list[GraphSpec], base: str) -> list[dict[str, str]]:
    return [
        {
            "id": g.id,
            "title": g.title,
            "unit": g.unit,
            "src": f"{base}/graph/{quote(g.id, safe='')}",
        }
        for g in graphs
    ]


@router.get("/")
async def root() -> Response:
    return RedirectResponse("/ui/hosts", status_code=303)


@router.get("/ui/hosts")
async def hosts_page(
    request: Request,
    state: State,
    signed_in: PageUser,
    service: str = "",
    role: str = "",
    status: str = "",
    name: str = "",
) -> Response:
    org_id = signed_in.user.org_id
    statuses = (status,) if status in STATUSES else STATUSES
    flt = HostFilter(
        service=service or None,
        roles=(role,) if role and service else (),
        statuses=statuses,
    )
    hosts, services = await asyncio.gather(
        state.store.list_hosts(org_id, flt), state.store.list_services(org_id)
    )
    if name:
        needle = name.lower()
        hosts = [
            h for h in hosts if needle in h.name.lower() or needle in (h.display_name or "").lower()
        ]
    latest, open_alerts, last_seen = await asyncio.gather(
        state.store.series.latest_points(org_id, [h.id for h in hosts], GLANCE_METRICS),
        state.store.open_alerts(org_id),
        state.store.series.host_last_seen(org_id),
    )
    rows = [host_row(h, latest.get(h.id, {})) for h in hosts]
    return render(
        request,
        "hosts.html",
        signed_in,
        rows=rows,
        alerts=summarise(open_alerts, "host_id"),
        last_seen=last_seen,
        now=state.now(),
        stale_after=STALE_AFTER,
        services=services,
        statuses=STATUSES,
        filters={"service": service, "role": role, "status": status, "name": name},
    )


@router.get("/ui/hosts/{host_id}")
async def host_page(request: Request, host_id: str, state: State, signed_in: PageUser) -> Response:
    org_id = signed_in.user.org_id
    try:
        host = await state.store.get_host(org_id, host_id)
    except NotFound:
        return missing(request, signed_in, f"host {host_id}")
    names, defs, checks, open_alerts, last_seen = await asyncio.gather(
        state.store.series.metric_names(org_id, "host", host_id),
        state.store.list_graph_defs(org_id),
        state.store.check_states(org_id, host_id),
        state.store.open_alerts(org_id),
        state.store.series.host_last_seen(org_id),
    )
    monitors = {d.id: d.spec for d in await state.store.list_documents(org_id, "monitor")}
    graphs = graph_cards(host_graphs(names, defs), f"/ui/data/host/{quote(host_id, safe='')}")
    return render(
        request,
        "host.html",
        signed_in,
        host=host,
        summary=host_summary(host),
        graphs=graphs,
        checks=checks,
        alerts=[a for a in open_alerts if a.host_id == host_id],
        monitors=monitors,
        last_seen=last_seen.get(host_id),
        now=state.now(),
        stale_after=STALE_AFTER,
    )


@router.get("/ui/services")
async def services_page(request: Request, state: State, signed_in: PageUser) -> Response:
    services = await state.store.list_services(signed_in.user.org_id)
    return render(request, "services.html", signed_in, services=services)


@router.get("/ui/services/{service}")
async def service_page(
    request: Request, service: str, state: State, signed_in: PageUser
) -> Response:
    org_id = signed_in.user.org_id
    try:
        roles = await state.store.list_roles(org_id, service)
    except NotFound:
        return missing(request, signed_in, f"service {service}")
    hosts, names, defs = await asyncio.gather(
        state.store.list_hosts(org_id, HostFilter(service=service, statuses=STATUSES)),
        state.store.series.metric_names(org_id, "service", service),
        state.store.list_graph_defs(org_id),
    )
    members = {
        role.name: [h for h in hosts if role.name in h.roles.get(service, [])] for role in roles
    }
    graphs = graph_cards(service_graphs(names, defs), f"/ui/data/service/{quote(service, safe='')}")
    role_graphs = {
        role: graph_cards(
            [GraphSpec(metric, title, unit, ()) for metric, (title, unit) in ROLE_GRAPHS.items()],
            f"/ui/data/role/{quote(service, safe='')}/{quote(role, safe='')}",
        )
        if hosts
        else []
        for role, hosts in members.items()
    }
    return render(
        request,
        "service.html",
        signed_in,
        service=service,
        roles=roles,
        members=members,
        graphs=graphs,
        role_graphs=role_graphs,
    )
