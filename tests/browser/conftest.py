"""Debian's chromium driven by Playwright against a real, seeded `sabamon server`.

The browser is blocked from every origin but the server's, so a test fails if a page
tries to load anything from elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright
from tests.browser.chromium import launch
from tests.server.web.dashboard_server import Dashboard, running_server, seed


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with running_server(tmp_path_factory.mktemp("dashboard")) as server:
        seed(server)
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, dashboard: Dashboard) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    foreign: list[str] = []

    def only_our_origin(route: Route) -> None:
        if route.request.url.startswith(dashboard.url + "/"):
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_our_origin)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()
    assert foreign == [], f"requests left the origin: {foreign}"
