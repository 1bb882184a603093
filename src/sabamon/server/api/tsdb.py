"""Host metrics: POST /api/v0/tsdb (the hot path), reads and latest values (spec §3).

The post body is parsed with orjson and checked by hand (`validation.host_points`) rather
than through a pydantic model per point; its schema is declared for /openapi.json only.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, ServerState, State, WriteKey, is_live_host
from sabamon.server.api.errors import BadRequest, NotFoundError
from sabamon.server.api.models import MetricsOut, Success, TimeValue, TsdbLatestOut
from sabamon.server.api.validation import host_points, parse_json
from sabamon.server.store.base import OwnerKind, Point

router = APIRouter(prefix="/api/v0", tags=["metrics"], responses=ERROR_RESPONSES)

SUCCESS_BODY = b'{"success":true}'

METRIC_NAME_SCHEMA = {"type": "string", "pattern": "^[a-zA-Z0-9._-]+$", "maxLength": 255}
POINT_VALUE_SCHEMA = {"type": "number"}
POINT_TIME_SCHEMA = {"type": "number", "minimum": 0}


def points_body_schema(owner_field: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "name": METRIC_NAME_SCHEMA,
        "time": POINT_TIME_SCHEMA,
        "value": POINT_VALUE_SCHEMA,
    }
    required = ["name", "time", "value"]
    if owner_field:
        properties[owner_field] = {"type": "string", "minLength": 1}
        required.insert(0, owner_field)
    item = {"type": "object", "properties": properties, "required": required}
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "array", "items": item}}},
        }
    }


async def commit_points(
    state: ServerState, org_id: str, kind: OwnerKind, points: list[Point]
) -> Response:
    """Writes, counts and answers only after the store has committed."""
    started = time.perf_counter()
    result = await state.store.series.write_points(org_id, kind, points, state.now())
    telemetry = state.telemetry
    telemetry.write_latency.observe(time.perf_counter() - started)
    telemetry.points["accepted"] += result.accepted
    telemetry.points["dropped_out_of_window"] += result.dropped_out_of_window
    return Response(SUCCESS_BODY, media_type="application/json")


@router.post("/tsdb", response_model=Success, openapi_extra=points_body_schema("hostId"))
async def post_host_metrics(request: Request, key: WriteKey, state: State) -> Response:
    try:
        points = host_points(parse_json(await request.body()))
        checked: set[str] = set()
        for index, point in enumerate(points):
            if point.owner_id in checked:
                continue
            if not await is_live_host(state, key.org_id, point.owner_id):
                raise BadRequest(f"[{index}].hostId: unknown or retired host {point.owner_id!r}")
            checked.add(point.owner_id)
    except BadRequest:
        state.telemetry.rejected_batches += 1
        raise
    return await commit_points(state, key.org_id, "host", points)


async def read_series(
    state: ServerState, org_id: str, kind: OwnerKind, owner_id: str, name: str, frm: int, to: int
) -> MetricsOut:
    if frm > to:
        raise BadRequest("from: must not be after to")
    series = await state.store.series.read_points(org_id, kind, owner_id, name, frm, to)
    if series is None:
        raise NotFoundError(f"Metric {name!r} not found.")
    return MetricsOut(metrics=[TimeValue(time=at, value=value) for at, value in series.points])


@router.get("/hosts/{host_id}/metrics")
async def host_metrics(
    host_id: str,
    name: str,
    frm: Annotated[int, Query(alias="from", ge=0, lt=2**40)],
    to: Annotated[int, Query(ge=0, lt=2**40)],
    key: ReadKey,
    state: State,
) -> MetricsOut:
    await state.store.get_host(key.org_id, host_id)
    return await read_series(state, key.org_id, "host", host_id, name, frm, to)


@router.get("/tsdb/latest")
async def latest(
    host_id: Annotated[list[str], Query(alias="hostId", min_length=1)],
    name: Annotated[list[str], Query(min_length=1)],
    key: ReadKey,
    state: State,
) -> TsdbLatestOut:
    found = await state.store.series.latest_points(key.org_id, host_id, name)
    return TsdbLatestOut(
        tsdb_latest={
            host: {
                metric: TimeValue(time=point[0], value=point[1])
                for metric, point in by_name.items()
                if point is not None
            }
            for host, by_name in found.items()
        }
    )
