"""One time zone per dashboard user, kept on the server: in real chromium, user A picks
Asia/Tokyo in the header and sees it after a reload and from another browser (context)
whose own zone differs; user B, who chose none, sees each browser's own zone. Tables,
graphs and the range bar all use it and name it; an unknown name is refused with the
reason."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from tests.server.web.dashboard_server import ADMIN_PASSWORD, Dashboard

BOB_PASSWORD = "bob-password-1"


@pytest.fixture(scope="module")
def bob(dashboard: Dashboard) -> str:
    added = subprocess.run(
        [sys.executable, "-m", "sabamon.cli", "user", "add", "bob", "--data",
         str(dashboard.data_dir), "--password-stdin"],
        input=BOB_PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    return "bob"


@pytest.fixture
def browser_in(browser: Browser) -> Iterator[Callable[[str], BrowserContext]]:
    """Opens browser contexts whose own zone is the one given; closes them at the end."""
    opened: list[BrowserContext] = []

    def open_context(zone: str) -> BrowserContext:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=zone)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


def signed_in(context: BrowserContext, dashboard: Dashboard, user: str, password: str) -> Page:
    page = context.new_page()
    page.goto(dashboard.url + "/ui/login?next=/ui/hosts")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/hosts")
    return page


def shown_zone(page: Page) -> str:
    return str(page.evaluate("document.documentElement.dataset.timeZone"))


def host_page(page: Page, dashboard: Dashboard) -> None:
    page.goto(f"{dashboard.url}/ui/hosts/{dashboard.hosts['web-1']}#6h")
    page.wait_for_selector("html[data-graphs-drawn='1']", state="attached")


def test_each_user_sees_their_own_zone_in_every_browser(
    dashboard: Dashboard, bob: str, browser_in: Callable[[str], BrowserContext]
) -> None:
    ann = signed_in(browser_in("America/New_York"), dashboard, "admin", ADMIN_PASSWORD)
    assert shown_zone(ann) == "America/New_York"  # none chosen yet: the browser's
    assert ann.locator("#zone-select").input_value() == ""
    host_page(ann, dashboard)
    with ann.expect_navigation():
        ann.select_option("#zone-select", "Asia/Tokyo")
    assert ann.url.endswith("#6h")  # back on the same view
    ann.wait_for_selector("html[data-graphs-drawn='1']", state="attached")
    assert shown_zone(ann) == "Asia/Tokyo"
    assert ann.locator("#range-label").inner_text().endswith("(Asia/Tokyo)")
    assert ann.locator("section.checks time").first.inner_text().endswith(("JST", "GMT+9"))
    ann.reload()
    assert shown_zone(ann) == "Asia/Tokyo"
    assert ann.locator("#zone-select").input_value() == "Asia/Tokyo"

    elsewhere = signed_in(browser_in("Europe/Berlin"), dashboard, "admin", ADMIN_PASSWORD)
    assert shown_zone(elsewhere) == "Asia/Tokyo"  # the user's choice, not this browser's
    host_page(elsewhere, dashboard)
    assert elsewhere.locator("#range-label").inner_text().endswith("(Asia/Tokyo)")

    for zone in ("America/New_York", "Europe/Berlin"):  # bob chose none: each browser's
        page = signed_in(browser_in(zone), dashboard, bob, BOB_PASSWORD)
        assert shown_zone(page) == zone
        host_page(page, dashboard)
        assert page.locator("#range-label").inner_text().endswith(f"({zone})")
        page.reload()
        assert shown_zone(page) == zone


def test_an_unknown_zone_is_refused_with_the_reason(
    dashboard: Dashboard, browser_in: Callable[[str], BrowserContext]
) -> None:
    page = signed_in(browser_in("UTC"), dashboard, "admin", ADMIN_PASSWORD)
    page.goto(dashboard.url + "/ui/settings/time-zone")
    page.fill("#zone-name", "Mars/Olympus_Mons")
    with page.expect_navigation() as answer:
        page.click("form.definition button[type=submit]")
    assert answer.value is not None and answer.value.status == 400
    assert "'Mars/Olympus_Mons' is not a time zone name" in page.locator("#zone-error").inner_text()
    page.fill("#zone-name", "")  # back to the browser's zone
    with page.expect_navigation():
        page.click("form.definition button[type=submit]")
    assert (
        shown_zone(page) == "UTC" and "this browser" in page.locator("#zone-current").inner_text()
    )
