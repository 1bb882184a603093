"""One JSON data request per graph: every series of the graph over [from, to].

The series store picks the step from the span (`read_points` returns it); the series are
aligned on one time axis for uPlot, with a null where a bucket is missing so the line breaks there.
"""

from __future__ import annotations

import asyncio
import bisect
from collections.abc import Sequence
from typing import get_args

import orjson
from fastapi import APIRouter, Query
from starlette.responses import Response

from sabamon.server.state import ServerState
from sabamon.server.store.records import Host, HostFilter, HostStatus, NotFound, OwnerKind
from sabamon.server.store.series_store import step_for_span

from .graphs import ROLE_GRAPHS, GraphSpec, find_graph, host_graphs, role_graph, service_graphs
from .session import DataUser, State

router = APIRouter()
STATUSES: tuple[HostStatus, ...] = get_args(HostStatus)
MAX_SPAN = 5 * 366 * 86400


def align(
    columns: Sequence[list[tuple[int, float]] | None], step: int
) -> tuple[list[int], list[list[float | None]]]:
    """Series on one ascending time axis; a null after any gap longer than one step."""
    times = sorted({t for column in columns if column for t, _ in column})
    axis: list[int] = []
    for t in times:
        if axis and t - axis[-1] > step * 1.5:
            axis.append(axis[-1] + step)
        axis.append(t)
    index = {t: i for i, t in enumerate(axis)}
    values: list[list[float | None]] = []
    for column in columns:
        row: list[float | None] = [None] * len(axis)
        for t, value in column or ():
            row[index[t]] = value
        values.append(row)
    return axis, values


def error(status: int, message: str) -> Response:
    return Response(
        orjson.dumps({"error": {"message": message}}),
        status_code=status,
        media_type="application/json",
    )


async def graph_response(
    state: ServerState,
    org_id: str,
    kind: OwnerKind,
    owner: str,
    graph: GraphSpec,
    frm: int,
    to: int,
    since: int | None = None,
) -> Response:
    """The graph's series over [frm, to]; with `since`, only the buckets from `since` on
    (a refresh that already holds the older ones), at the step of the whole range."""
    reads = await asyncio.gather(
        *(
            state.store.series.read_points(
                org_id,
                "host" if series.host else kind,
                series.host or owner,
                series.metric,
                frm,
                to,
            )
            for series in graph.series
        )
    )
    step = next((read.step for read in reads if read is not None), step_for_span(to - frm))
    times, values = align([read.points if read else None for read in reads], step)
    if since is not None:
        first = bisect.bisect_left(times, since)
        times, values = times[first:], [column[first:] for column in values]
    body = {
        "graph": graph.id,
        "title": graph.title,
        "unit": graph.unit,
        "from": frm,
        "to": to,
        "since": since,
        "step": step,
        "series": [
            {
                "metric": s.metric,
                "label": s.label,
                "stacked": s.stacked,
                "key": s.label if s.host else s.metric,
            }
            for s in graph.series
        ],
        "times": times,
        "values": values,
    }
    return Response(
        orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


def check_range(frm: int, to: int) -> str | None:
    if not (0 <= frm < 2**40 and 0 <= to < 2**40):
        return "`from` and `to` must be epoch seconds from 0 to 2^40"
    if to <= frm:
        return f"`to` ({to}) must be after `from` ({frm})"
    if to - frm > MAX_SPAN:
        return f"the range from={frm} to={to} is longer than five years"
    return None


async def owner_graph_data(
    state: ServerState,
    org_id: str,
    kind: OwnerKind,
    owner: str,
    graph_id: str,
    frm: int,
    to: int,
    since: int | None = None,
) -> Response:
    """The graph `graph_id` of a host or service, as the owner's page lists it."""
    names, defs = await asyncio.gather(
        state.store.series.metric_names(org_id, kind, owner), state.store.list_graph_defs(org_id)
    )
    graphs = host_graphs(names, defs) if kind == "host" else service_graphs(names, defs)
    graph = find_graph(graphs, graph_id)
    if graph is None:
        return error(404, f"{kind} {owner!r} has no graph {graph_id!r}")
    return await graph_response(state, org_id, kind, owner, graph, frm, to, since)


@router.get("/ui/data/host/{host_id}/graph/{graph_id:path}")
async def host_graph_data(
    host_id: str,
    graph_id: str,
    state: State,
    signed_in: DataUser,
    frm: int = Query(alias="from"),
    to: int = Query(),
    since: int | None = Query(None),
) -> Response:
    org_id = signed_in.user.org_id
    if problem := check_range(frm, to):
        return error(400, problem)
    try:
        await state.store.get_host(org_id, host_id)
    except NotFound:
        return error(404, f"no host with id {host_id!r}")
    return await owner_graph_data(state, org_id, "host", host_id, graph_id, frm, to, since)


@router.get("/ui/data/service/{service}/graph/{graph_id:path}")
async def service_graph_data(
    service: str,
    graph_id: str,
    state: State,
    signed_in: DataUser,
    frm: int = Query(alias="from"),
    to: int = Query(),
    since: int | None = Query(None),
) -> Response:
    if problem := check_range(frm, to):
        return error(400, problem)
    return await owner_graph_data(
        state, signed_in.user.org_id, "service", service, graph_id, frm, to, since
    )


@router.get("/ui/data/role/{service}/{role}/graph/{metric:path}")
async def role_graph_data(
    service: str,
    role: str,
    metric: str,
    state: State,
    signed_in: DataUser,
    frm: int = Query(alias="from"),
    to: int = Query(),
    since: int | None = Query(None),
) -> Response:
    """One line per host of the role (Mackerel's role graphs)."""
    if problem := check_range(frm, to):
        return error(400, problem)
    org_id = signed_in.user.org_id
    hosts = await role_hosts(state, org_id, service, role)
    graph = role_graph(metric, [(h.id, h.display_name or h.name) for h in hosts])
    if graph is None:
        return error(404, f"role graphs show {', '.join(ROLE_GRAPHS)}, not {metric!r}")
    return await graph_response(state, org_id, "host", "", graph, frm, to, since)


async def role_hosts(state: ServerState, org_id: str, service: str, role: str) -> list[Host]:
    """The role's non-retired hosts, by name."""
    flt = HostFilter(service=service, roles=(role,), statuses=STATUSES)
    return sorted(await state.store.list_hosts(org_id, flt), key=lambda h: h.name)
