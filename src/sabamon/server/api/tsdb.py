"""Host metrics: POST /api/v0/tsdb (the hot path), reads and latest values (spec §3).

The post body is parsed with orjson and checked by hand (`validation.host_points`) rather
than through a pydantic model per point; its schema is declared for /openapi.json only.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from sabamon.server.api.common import ERROR_RESPONSES
from sabamon.server.api.deps import ReadKey, ServerState, State, WriteKey, is_live_host
from sabamon.server.api.errors import BadRequest, NotFoundError
from sabamon.server.api.models import MetricsOut, Success, TimeValue, TsdbLatestOut
from sabamon.server.api.validation import ParsedPoints, Refused, host_points, parse_json
from sabamon.server.store.records import OwnerKind
from sabamon.server.store.series_store import WRITE_WINDOW

router = APIRouter(prefix="/api/v0", tags=["metrics"], responses=ERROR_RESPONSES)

SUCCESS_BODY = b'{"success":true}'
REPLAY_HEADER = "X-Sabamon-Replay"
"""`X-Sabamon-Replay: 1` on a post of backlog points (the agent sends it when it posts
batches from its spool after an outage): points back to the raw retention are stored."""
HOUR = 3600
MAX_NAMED = 20
MAX_LATEST_PAIRS = 10_000
"""hostId × name pairs (distinct values) one GET /tsdb/latest may ask for: the answer and
the reads grow with their product. Mackerel documents no bound."""

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


def write_window(request: Request, state: ServerState) -> int:
    """The oldest point time a post may store: 24 h back (Mackerel's rule), or back to the
    raw retention less an hour when the client says it replays a backlog (REPLAY_HEADER);
    the hour keeps late points clear of the hour retention is expiring."""
    now = state.now()
    if request.headers.get(REPLAY_HEADER, "") == "1":
        return now - max(WRITE_WINDOW, state.store.series.retention.raw_1m - HOUR)
    return now - WRITE_WINDOW


async def commit_points(
    state: ServerState,
    org_id: str,
    kind: OwnerKind,
    parsed: ParsedPoints,
    earliest: int,
) -> Response:
    """Writes the valid points, counts every outcome and answers only after the store has
    committed: 200, or 400 naming each refused point when there were any (the others are
    stored: a partial write)."""
    started = time.perf_counter()
    result = await state.store.series.write_points(
        org_id, kind, parsed.points, state.now(), earliest=earliest
    )
    telemetry = state.telemetry
    telemetry.write_latency.observe(time.perf_counter() - started)
    telemetry.points.labels("accepted").inc(result.accepted)
    telemetry.points.labels("dropped_out_of_window").inc(result.dropped_out_of_window)
    if result.over_series_limit:
        reason = (
            f"a new series would take the organisation past its limit of "
            f"{result.series_limit} series (--max-series-per-org)"
        )
        parsed.refused.extend(
            Refused(parsed.indexes[at], "name", reason) for at in result.over_series_limit
        )
        parsed.refused.sort(key=lambda refused: refused.index)
    if not parsed.refused:
        return Response(SUCCESS_BODY, media_type="application/json")
    for refused in parsed.refused:
        telemetry.points_refused.labels(refused.field).inc()
    return refused_response(parsed.refused, result.accepted)


def refused_response(refused: list[Refused], stored: int, what: str = "points") -> Response:
    """400 `{"error": {"message", "refused": [{"index", "field", "message"}]}}` after a
    partial write; the message names the first MAX_NAMED refused items and counts the rest."""
    named = "; ".join(str(r) for r in refused[:MAX_NAMED])
    more = f"; and {len(refused) - MAX_NAMED} more" if len(refused) > MAX_NAMED else ""
    message = f"{len(refused)} {what} refused, {stored} stored: {named}{more}"
    detail = [{"index": r.index, "field": r.field, "message": r.reason} for r in refused]
    body = {"error": {"message": message, "refused": detail}}
    return Response(orjson.dumps(body), status_code=400, media_type="application/json")


@router.post("/tsdb", response_model=Success, openapi_extra=points_body_schema("hostId"))
async def post_host_metrics(request: Request, key: WriteKey, state: State) -> Response:
    """Stores the valid points; unknown or retired hosts, bad names, times and values are
    refused point by point."""
    try:
        parsed = host_points(parse_json(await request.body()))
    except BadRequest:
        state.telemetry.rejected_batches.inc()
        raise
    live = {
        owner: await is_live_host(state, key.org_id, owner)
        for owner in {point.owner_id for point in parsed.points}
    }
    if not all(live.values()):  # an agent posts for its own host: rarely a dead one
        parsed = refuse_dead_hosts(parsed, live)
    return await commit_points(state, key.org_id, "host", parsed, write_window(request, state))


def refuse_dead_hosts(parsed: ParsedPoints, live: dict[str, bool]) -> ParsedPoints:
    """`parsed` less the points of the hosts `live` marks False, which join the refused
    (in index order)."""
    kept = ParsedPoints(refused=parsed.refused)
    for index, point in zip(parsed.indexes, parsed.points, strict=True):
        if live[point.owner_id]:
            kept.keep(index, point)
        else:
            reason = f"unknown or retired host {point.owner_id!r}"
            kept.refused.append(Refused(index, "hostId", reason))
    kept.refused.sort(key=lambda refused: refused.index)
    return kept


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
    hosts, names = list(dict.fromkeys(host_id)), list(dict.fromkeys(name))
    if len(hosts) * len(names) > MAX_LATEST_PAIRS:
        raise BadRequest(
            f"hostId, name: at most {MAX_LATEST_PAIRS} hostId × name pairs per request"
            f" ({len(hosts)} hostId × {len(names)} name asked)"
        )
    found = await state.store.series.latest_points(key.org_id, hosts, names)
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
