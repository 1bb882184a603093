"""One real server for the dashboard's HTTP tests, seeded once through the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from dashboard_server import Dashboard, running_server, seed


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with running_server(tmp_path_factory.mktemp("dashboard")) as server:
        seed(server)
        yield server


@pytest.fixture(scope="module")
def fast_dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """A server whose minutes last a second, so its alert engine raises alerts in seconds."""
    with running_server(tmp_path_factory.mktemp("fast"), clock_scale=60) as server:
        seed(server)
        yield server
