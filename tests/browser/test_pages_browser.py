"""Host summary, service and role graphs, API key revocation, phone widths and the monitor
form's metric picker and preview, in a real browser against the seeded server."""

from __future__ import annotations

from playwright.sync_api import Page
from tests.browser.chromium import sign_in
from tests.server.web.dashboard_server import Dashboard

PHONE = {"width": 390, "height": 844}


def test_disks_in_bytes_without_loop_or_empty_devices(page: Page, dashboard: Dashboard) -> None:
    sign_in(page, dashboard, f"/ui/hosts/{dashboard.hosts['web-1']}")
    disks = page.locator(".summary dd", has=page.locator(".chip")).first.inner_text()
    assert "sda (100 GiB)" in disks
    assert "loop" not in disks and "sdb" not in disks and "sectors" not in disks


def test_the_service_page_overlays_each_roles_hosts(page: Page, dashboard: Dashboard) -> None:
    sign_in(page, dashboard, "/ui/services/shop")
    page.wait_for_selector("html[data-graphs-drawn='1']", state="attached")
    web = page.locator("section.role-graphs[data-role='web']")
    figures = web.locator("figure.graph")
    assert figures.count() == 3
    load = web.locator("figure.graph[data-graph='loadavg5']")
    assert load.get_attribute("data-state") == "drawn"
    assert int(load.get_attribute("data-points") or 0) > 30  # 3 h of 5-minute buckets
    lines = load.locator("table.legend tbody tr").all_inner_texts()
    assert len(lines) == 2 and any("web-1" in line for line in lines)  # web-1 and the other
    assert page.locator("section.role-graphs[data-role='db'] figure.graph").count() == 3
    assert page.locator("figure.graph[data-graph='orders']").count() == 1  # service metrics


def test_revoking_a_key_asks_first(page: Page, dashboard: Dashboard) -> None:
    sign_in(page, dashboard, "/ui/settings/api-keys")
    page.fill("input[name=name]", "temporary")
    page.click("form.inline-form button[type=submit]")
    page.wait_for_selector("#new-key")
    row = page.locator("tr", has_text="temporary")
    row.locator("a.revoke").click()
    assert page.locator("h1").inner_text().startswith("Revoke API key")
    page.click("text=Keep it")
    page.wait_for_url("**/ui/settings/api-keys")
    assert page.locator("tr", has_text="temporary").count() == 1
    page.locator("tr", has_text="temporary").locator("a.revoke").click()
    page.click("button.danger")
    page.wait_for_url("**/ui/settings/api-keys")
    page.wait_for_selector("form.inline-form")
    assert page.locator("tr", has_text="temporary").count() == 0


def test_every_page_fits_a_phone(page: Page, dashboard: Dashboard) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, dashboard)
    host = dashboard.hosts["web-1"]
    for path in ("/ui/hosts", f"/ui/hosts/{host}", "/ui/services", "/ui/services/shop",
                 "/ui/alerts?closed=true", "/ui/monitors", "/ui/channels",
                 "/ui/settings/api-keys", "/ui/monitors/new/host"):  # fmt: skip
        page.goto(dashboard.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path


def test_the_monitor_form_picks_metrics_and_previews_thresholds(
    page: Page, dashboard: Dashboard
) -> None:
    sign_in(page, dashboard, "/ui/monitors/new/host")
    preview = page.locator("#monitor-preview")
    page.wait_for_selector("#monitor-preview[data-state='drawn']", state="attached")
    options = page.locator("#metric-names option").evaluate_all("os => os.map(o => o.value)")
    assert {"loadavg5", "cpu%", "memory.used", "custom.misc.temperature"} <= set(options)
    assert page.locator("#f-metric").get_attribute("list") == "metric-names"
    page.fill("#f-scopes", "shop:db")
    page.fill("#f-metric", "loadavg5")
    page.fill("#f-warning", "0.7")
    page.fill("#f-critical", "0.85")
    page.wait_for_selector("#monitor-preview svg line.threshold.critical", state="attached")
    svg = preview.locator("svg")
    assert svg.locator("polyline.series").count() >= 1
    assert svg.locator("line.threshold.warning").count() == 1
    assert "db-1" in (svg.get_attribute("aria-label") or "")
