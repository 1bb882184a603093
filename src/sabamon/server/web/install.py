"""Mounts the dashboard on the server app: routes, static files, security headers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from . import (
    alerts,
    channels,
    data,
    graph_images,
    groups,
    login,
    monitors,
    pages,
    preview,
    settings,
)
from .security import SecurityHeaders
from .session import CsrfRejected, SignInRequired, csrf_rejected, sign_in_required

STATIC = Path(__file__).resolve().parent / "static"


def install_dashboard(app: FastAPI) -> None:
    for module in (login, pages, data, preview, settings, alerts, monitors, channels, groups):
        app.include_router(module.router, include_in_schema=False)
    app.include_router(graph_images.router, include_in_schema=False)
    app.mount("/ui/static", StaticFiles(directory=STATIC, check_dir=False), name="static")
    app.add_exception_handler(SignInRequired, sign_in_required)
    app.add_exception_handler(CsrfRejected, csrf_rejected)
    app.add_middleware(SecurityHeaders)
