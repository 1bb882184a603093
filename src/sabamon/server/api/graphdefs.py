"""Graph definitions (spec §3): created in batches, deleted by name with a JSON body.

Wildcard names (`*`, `#`) are kept as data; the dashboard expands them.
"""

from __future__ import annotations

import re

from fastapi import APIRouter

from sabamon.server.api.common import ERROR_RESPONSES, JsonBodyRoute
from sabamon.server.api.deps import State, WriteKey
from sabamon.server.api.errors import BadRequest
from sabamon.server.api.models import GraphDefDeleteIn, GraphDefIn, GraphMetricIn, Success
from sabamon.server.store.records import GraphDef, NotFound

router = APIRouter(
    prefix="/api/v0",
    tags=["graph definitions"],
    responses=ERROR_RESPONSES,
    route_class=JsonBodyRoute,
)

MAX_GRAPH_DEFS = 5000
"""Graph definitions per organisation (Mackerel documents no bound): the dashboard reads
and matches them all on each host and service view."""
GRAPH_METRIC_NAME = re.compile(r"custom(\.([-a-zA-Z0-9_]+|[*#]))+")


def check_graph_def(index: int, graph: GraphDefIn) -> GraphDef:
    where = f"[{index}]"
    if not GRAPH_METRIC_NAME.fullmatch(graph.name):
        raise BadRequest(f"{where}.name: must look like custom.<segment>[.<segment>...]")
    for position, metric in enumerate(graph.metrics):
        metric_where = f"{where}.metrics[{position}].name"
        if not GRAPH_METRIC_NAME.fullmatch(metric.name):
            raise BadRequest(f"{metric_where}: must look like custom.<segment>[.<segment>...]")
        if metric.name.rpartition(".")[0] != graph.name:
            raise BadRequest(f"{metric_where}: must be the graph name plus one segment")
        if metric.name.count("#") > 1:
            raise BadRequest(f"{metric_where}: at most one '#' wildcard")
    return GraphDef(
        name=graph.name,
        display_name=graph.display_name,
        unit=graph.unit,
        metrics=[metric_dict(metric) for metric in graph.metrics],
    )


def metric_dict(metric: GraphMetricIn) -> dict[str, object]:
    result: dict[str, object] = {"name": metric.name, "isStacked": metric.is_stacked}
    if metric.display_name is not None:
        result["displayName"] = metric.display_name
    return result


@router.post("/graph-defs/create")
async def create_graph_defs(body: list[GraphDefIn], key: WriteKey, state: State) -> Success:
    """Creates or replaces the definitions; the organisation holds at most
    `MAX_GRAPH_DEFS` (counted in the write's transaction)."""
    defs = [check_graph_def(index, graph) for index, graph in enumerate(body)]
    refused = await state.store.upsert_graph_defs(key.org_id, defs, MAX_GRAPH_DEFS)
    if refused is not None:
        stored, new = refused
        raise BadRequest(
            f"body: an organisation holds at most {MAX_GRAPH_DEFS} graph definitions"
            f" ({stored} stored, {new} new in this request)"
        )
    return Success()


@router.delete("/graph-defs")
async def delete_graph_def(body: GraphDefDeleteIn, key: WriteKey, state: State) -> Success:
    try:
        await state.store.delete_graph_def(key.org_id, body.name)
    except NotFound as exc:
        raise BadRequest(f"name: graph definition {body.name!r} does not exist") from exc
    return Success()
