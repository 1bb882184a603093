"""Jinja2 pages, every value HTML-escaped (autoescape on for all templates)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from sabamon.server.graphing.units import format_value, unit_of_metric

from .alert_state import age
from .session import SignedIn

TEMPLATES = Path(__file__).resolve().parent / "templates"
environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def _time(epoch: int | None) -> Markup:
    """A <time> element in UTC; time.js rewrites it in the user's zone, named."""
    if epoch is None:
        return Markup("—")
    moment = dt.datetime.fromtimestamp(epoch, dt.UTC)
    return Markup('<time datetime="{}">{}</time>').format(
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.strftime("%Y-%m-%d %H:%M UTC")
    )


environment.filters["time"] = _time
environment.filters["bytes"] = lambda value: format_value("bytes", value)
environment.filters["age"] = age
environment.filters["metric_value"] = lambda value, metric: format_value(
    unit_of_metric(str(metric)), value
)


def render(
    request: Request,
    template: str,
    signed_in: SignedIn | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    html = environment.get_template(template).render(
        request_path=request.url.path,
        user=signed_in.user.name if signed_in else None,
        user_zone=signed_in.user.time_zone if signed_in else None,
        csrf=signed_in.csrf if signed_in else "",
        open_alert_count=signed_in.open_alerts if signed_in else 0,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def missing(request: Request, signed_in: SignedIn, what: str) -> HTMLResponse:
    """The 404 page for the `what` a URL names that does not exist in the user's org."""
    return render(request, "missing.html", signed_in, status_code=404, what=what)
