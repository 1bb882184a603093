"""Check monitoring (spec §5): reports from `check` plugins and `mkr wrap`, and the check
monitors that hosts declare in their `checks` list. Reports are stored for alerting, and
new ones are announced to the cluster, so the member that owns the check monitor evaluates
them at once rather than at the next minute (`sabamon.server.alerts.scheduler`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.responses import Response

from sabamon.server.alerts.scheduler import CHECK_REPORTS
from sabamon.server.api.common import ERROR_RESPONSES, JsonBodyRoute
from sabamon.server.api.deps import ReadKey, State, WriteKey, is_live_host
from sabamon.server.api.errors import NotFoundError, describe_location
from sabamon.server.api.models import (
    CheckMonitorEnvelope,
    CheckMonitorOut,
    CheckMonitorsOut,
    CheckReportIn,
    CheckReportsIn,
)
from sabamon.server.api.tsdb import SUCCESS_BODY, refused_response
from sabamon.server.api.validation import Refused
from sabamon.server.store.records import CheckReport

router = APIRouter(
    prefix="/api/v0/monitoring",
    tags=["checks"],
    responses=ERROR_RESPONSES,
    route_class=JsonBodyRoute,
)

MIN_NOTIFICATION_INTERVAL = 10  # minutes; smaller values count as 10
PAGE_LIMIT = 100


@router.post("/checks/report")
async def report_checks(
    body: CheckReportsIn, request: Request, key: WriteKey, state: State
) -> Response:
    """Stores the valid reports; a report with a bad field or an unknown host is refused on
    its own, answered 400 naming each (the others are stored)."""
    reports: list[CheckReport] = []
    refused: list[Refused] = []
    for index, item in enumerate(body.reports):
        try:
            report = CheckReportIn.model_validate(item)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = describe_location(("body", *first["loc"]))
            reason = str(first["msg"])
            refused.append(Refused(index, field, reason[:1].lower() + reason[1:], "reports"))
            continue
        host_id = report.source.host_id
        if not await is_live_host(state, key.org_id, host_id):
            reason = f"unknown or retired host {host_id!r}"
            refused.append(Refused(index, "source.hostId", reason, "reports"))
            continue
        interval = report.notification_interval
        reports.append(
            CheckReport(
                host_id=host_id,
                name=report.name,
                status=report.status,
                message=report.message,
                occurred_at=report.occurred_at,
                notification_interval=None
                if interval is None
                else max(interval, MIN_NOTIFICATION_INTERVAL),
                max_check_attempts=report.max_check_attempts or 1,
            )
        )
    if reports and await state.store.write_check_reports(key.org_id, reports, state.now()):
        request.app.state.coordinator.announce(CHECK_REPORTS)
    if refused:
        return refused_response(refused, len(reports), "reports")
    return Response(SUCCESS_BODY, media_type="application/json")


@router.get("/checks", response_model_exclude_none=True)
async def list_check_monitors(
    key: ReadKey,
    state: State,
    next_id: Annotated[str | None, Query(alias="nextId")] = None,
    limit: Annotated[int, Query(ge=1, le=PAGE_LIMIT)] = PAGE_LIMIT,
) -> CheckMonitorsOut:
    page = await state.store.list_check_monitors(key.org_id, next_id, limit + 1)
    more = len(page) > limit
    page = page[:limit]
    return CheckMonitorsOut(
        checks=[CheckMonitorOut(id=monitor_id, name=name) for monitor_id, name in page],
        next_id=page[-1][0] if more else None,
    )


@router.get("/checks/{monitor_id}")
async def get_check_monitor(monitor_id: str, key: ReadKey, state: State) -> CheckMonitorEnvelope:
    after: str | None = None
    while page := await state.store.list_check_monitors(key.org_id, after, 1000):
        for found_id, name in page:
            if found_id == monitor_id:
                return CheckMonitorEnvelope(check=CheckMonitorOut(id=found_id, name=name))
        after = page[-1][0]
    raise NotFoundError(f"Check monitor {monitor_id!r} not found.")
