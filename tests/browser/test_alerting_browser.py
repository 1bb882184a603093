"""Monitors and channels in a real browser, against a server whose minutes last a second:
a monitor made in the form raises an alert from posted points, which is closed in the
alerts page; the test button reaches a loopback webhook and shows in the delivery log."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page
from tests.browser.chromium import sign_in
from tests.server.notify.receiver import Receiver, receiving
from tests.server.web.dashboard_server import (
    Dashboard,
    alert_from_monitor,
    running_server,
    wait_for_sample,
)

CLOCK_SCALE = 60.0  # one server minute per second
DELIVERY_WAIT = 20.0  # real seconds: the worker wakes each server minute


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """Overrides the seeded server of conftest.py: this one runs a fast clock."""
    with running_server(tmp_path_factory.mktemp("alerting"), CLOCK_SCALE) as server:
        with server.api() as api:
            host = api.post("/api/v0/hosts", json={"name": "app-1", "meta": {}}).json()
        server.hosts["app-1"] = host["id"]
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as peer:
        yield peer


def test_a_monitor_from_the_form_raises_an_alert_that_is_closed(
    page: Page, dashboard: Dashboard
) -> None:
    sign_in(page, dashboard, "/ui/monitors/new/host")
    page.fill("#f-name", "app load")
    page.fill("#f-metric", "loadavg5")
    page.select_option("#f-operator", ">")
    page.fill("#f-warning", "2")
    page.fill("#f-critical", "4")
    page.click("form.definition button[type=submit]")
    page.wait_for_url("**/ui/monitors")
    row = page.locator("tr", has=page.locator("a.monitor-name", has_text="app load"))
    assert "crit > 4" in row.inner_text()
    monitor_id = row.get_attribute("data-monitor")
    assert monitor_id
    alert_id = alert_from_monitor(dashboard, dashboard.hosts["app-1"], monitor_id, 9.5)
    page.goto(f"{dashboard.url}/ui/alerts")
    page.click(f"a[href='/ui/alerts/{alert_id}']")
    assert page.locator("#alert-status").inner_text() == "CRITICAL"
    page.fill("input[name=reason]", "load shed <b>by hand</b>")
    page.click("form[action$='/close'] button[type=submit]")
    page.wait_for_selector("#alert-reason")
    assert page.locator("#alert-status").inner_text() == "OK"
    assert page.locator("#alert-reason").inner_text() == "load shed <b>by hand</b>"
    page.goto(f"{dashboard.url}/ui/alerts")
    assert page.locator(f"a[href='/ui/alerts/{alert_id}']").count() == 0
    page.goto(f"{dashboard.url}/ui/alerts?closed=true")
    assert page.locator(f"a[href='/ui/alerts/{alert_id}']").count() == 1


def test_test_button_reaches_the_webhook_and_the_delivery_log(
    page: Page, dashboard: Dashboard, receiver: Receiver
) -> None:
    sign_in(page, dashboard, "/ui/channels/new/webhook")
    page.fill("#f-name", "loopback hook")
    page.fill("#f-url", receiver.url)
    page.click("form.definition button[type=submit]")
    page.wait_for_selector("#send-test")
    assert page.locator("table.deliveries").inner_text().count("Nothing delivered yet") == 1
    page.click("#send-test")
    page.wait_for_selector("p.notice")
    assert wait_for_sample(receiver)["message"]
    deadline = time.monotonic() + DELIVERY_WAIT
    while page.locator("table.deliveries .delivery-sent").count() == 0:
        assert time.monotonic() < deadline, "the delivery log never showed the sent test"
        page.reload()
    row = page.locator("table.deliveries tbody tr").first.inner_text()
    assert "test" in row and "sent" in row


def test_forms_fit_a_phone(page: Page, dashboard: Dashboard) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, dashboard, "/ui/monitors")
    for path in ("/ui/monitors", "/ui/monitors/new/external", "/ui/channels/new/slack",
                 "/ui/channels", "/ui/notification-groups"):  # fmt: skip
        page.goto(dashboard.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
