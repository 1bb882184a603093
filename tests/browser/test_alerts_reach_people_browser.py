"""Alerts that reach people, in a real browser against a server whose minutes last a
second and whose `--public-url` is `http://localhost:<port>`:

- an alert raised before any channel is in a group is flagged as having reached nobody;
- a channel made in the form joins the Default group unless unticked, an unticked one is
  flagged as in no group;
- an alert from a real agent reaches a webhook whose links open the dashboard's alert and
  host pages (200 after sign-in) and which carries the graph of the metric;
- the alert page explains the alert (monitor, host, rule, value in its unit, graph with
  thresholds, link to the host at that time); hosts, host, monitors and navigation show
  the open alerts and how stale a host is.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page
from tests.agent.agent_process import start_agent, stop, write_config
from tests.browser.chromium import sign_in
from tests.server.notify.receiver import Receiver, receiving
from tests.server.web.dashboard_server import (
    API_KEY,
    Dashboard,
    open_load_alert,
    running_server,
)

# A real agent's points meet a server whose minutes last a second: a second of lag on a
# loaded machine is a minute of data missing, so these run with no test beside them.
pytestmark = pytest.mark.alone

CLOCK_SCALE = 60.0
WAIT = 60.0  # real seconds for an agent's point to raise an alert and reach the webhook


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with running_server(
        tmp_path_factory.mktemp("reach"), CLOCK_SCALE, public_host="localhost"
    ) as server:
        with server.api() as api:
            for name in ("web-1", "silent-1"):
                body = {"name": name, "meta": {}, "roleFullnames": ["shop:web"]}
                server.hosts[name] = api.post("/api/v0/hosts", json=body).json()["id"]
        yield server


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with receiving() as peer:
        yield peer


def alert_bodies(receiver: Receiver, monitor_name: str) -> list[dict[str, Any]]:
    with receiver.lock:
        return [
            b
            for b in receiver.bodies
            if b.get("event") == "alert" and b["alert"].get("monitorName") == monitor_name
        ]


def test_1_an_alert_nobody_received_is_flagged(page: Page, dashboard: Dashboard) -> None:
    with dashboard.api() as api:  # a channel exists, but the Default group holds none
        hook = {"type": "webhook", "name": "stray", "url": "http://127.0.0.1:9/"}
        assert api.post("/api/v0/channels", json=hook).status_code == 200
        groups = api.get("/api/v0/notification-groups").json()["notificationGroups"]
        default = next(g for g in groups if g["type"] == "group-default")
        api.put(f"/api/v0/notification-groups/{default['id']}",
                json={**default, "childChannelIds": []})  # fmt: skip
    alert_id = open_load_alert(dashboard, "early load", 5.0)
    sign_in(page, dashboard, "/ui/alerts")
    warning = page.locator("#unreached-warning")
    assert "reached no channel" in warning.inner_text()
    row = page.locator("tr", has=page.locator(f"a[href='/ui/alerts/{alert_id}']"))
    assert "not notified" in row.inner_text() and "early load" in row.inner_text()
    page.goto(dashboard.url + "/ui/channels")
    stray = page.locator("section.channel", has=page.locator("a.channel-name", has_text="stray"))
    assert "in no notification group" in stray.locator(".ungrouped").inner_text()


def test_2_a_channel_from_the_form_joins_the_default_group(
    page: Page, dashboard: Dashboard, receiver: Receiver
) -> None:
    sign_in(page, dashboard, "/ui/channels/new/webhook")
    assert page.locator("#f-default-group").is_checked()
    page.fill("#f-name", "on call")
    page.fill("#f-url", receiver.url)
    page.click("form.definition button[type=submit]")
    page.wait_for_selector("#send-test")
    page.goto(dashboard.url + "/ui/channels/new/webhook")
    page.fill("#f-name", "kept aside")
    page.fill("#f-url", receiver.url)
    page.uncheck("#f-default-group")
    page.click("form.definition button[type=submit]")
    page.wait_for_selector("#send-test")
    page.goto(dashboard.url + "/ui/channels")

    def card(name: str) -> Any:
        return page.locator("section.channel", has=page.locator("a.channel-name", has_text=name))

    assert card("on call").locator(".ungrouped").count() == 0
    assert card("kept aside").locator(".ungrouped").count() == 1
    with dashboard.api() as api:
        groups = api.get("/api/v0/notification-groups").json()["notificationGroups"]
        channels = {c["name"]: c["id"] for c in api.get("/api/v0/channels").json()["channels"]}
    default = next(g for g in groups if g["type"] == "group-default")
    assert channels["on call"] in default["childChannelIds"]
    assert channels["kept aside"] not in default["childChannelIds"]


def test_3_an_alert_from_a_real_agent_reaches_the_webhook_with_links_and_a_graph(
    dashboard: Dashboard, receiver: Receiver, tmp_path: Path
) -> None:
    monitor = {"type": "host", "name": "agent counter", "metric": "custom.counter",
               "operator": ">", "warning": 0.5, "critical": 1e9}  # fmt: skip
    with dashboard.api() as api:
        assert api.post("/api/v0/monitors", json=monitor).status_code == 200
    conf = write_config(tmp_path, dashboard.url)
    conf.write_text(conf.read_text().replace("test-key", API_KEY))
    agent = start_agent(conf, tmp_path / "root")
    try:
        deadline = time.monotonic() + WAIT
        while not alert_bodies(receiver, "agent counter"):
            assert agent.poll() is None, (tmp_path / "agent.log").read_text()
            assert time.monotonic() < deadline, f"no alert reached the webhook: {receiver.bodies}"
            time.sleep(0.1)
    finally:
        stop(agent)
    body = alert_bodies(receiver, "agent counter")[0]
    alert, host = body["alert"], body["host"]
    assert alert["status"] == "warning"
    assert alert["url"] == f"{dashboard.url}/ui/alerts/{alert['id']}"
    assert host["url"] == f"{dashboard.url}/ui/hosts/{host['id']}"
    assert dashboard.url.startswith("http://localhost:")  # the --public-url, not --listen
    with dashboard.signed_in() as client:
        for link in (alert["url"], host["url"], host["roles"][0]["serviceUrl"]
                     if host["roles"] else host["url"]):  # fmt: skip
            answer = client.get(link)
            assert answer.status_code == 200, link
    with dashboard.api() as api:
        listed = api.get(f"/api/v0/alerts/{alert['id']}").json()
    assert listed["url"] == alert["url"]
    image = httpx.get(body["imageUrl"], timeout=10)  # no session: as Slack fetches it
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG\r\n\x1a\n")
    svg = ET.fromstring(body["graphSvg"])
    classes = [e.get("class") for e in svg.iter() if e.get("class")]
    assert "series" in classes and "threshold warning" in classes


def test_4_the_alert_page_explains_the_alert(page: Page, dashboard: Dashboard) -> None:
    alert_id = open_load_alert(dashboard, "shop load", 4.0)
    sign_in(page, dashboard, f"/ui/alerts/{alert_id}")
    assert page.locator("#alert-monitor").inner_text() == "shop load"
    assert "web-1" in page.locator("h1").inner_text()
    assert page.locator("#alert-rule").inner_text() == "loadavg5 > 4 critical"
    assert page.locator("#alert-value").inner_text() == "99"
    graph = page.locator("#alert-graph svg")
    assert graph.locator("polyline.series").count() >= 1
    assert graph.locator("line.threshold.critical").count() == 1
    box = graph.bounding_box()
    assert box is not None and box["width"] > 300
    href = page.locator("#host-link").get_attribute("href") or ""
    assert href.startswith(f"/ui/hosts/{dashboard.hosts['web-1']}#from=")
    page.click("#host-link")
    page.wait_for_selector("html[data-graphs-drawn='1']", state="attached")
    frm = int(href.split("from=")[1].split("&")[0])
    figure = page.locator("figure.graph").first
    assert int(figure.get_attribute("data-from") or 0) == frm  # the graphs at that moment
    assert page.locator("#alerts a[href='/ui/alerts/" + alert_id + "']").count() == 1


def test_5_hosts_monitors_and_navigation_show_alerts_and_staleness(
    page: Page, dashboard: Dashboard
) -> None:
    sign_in(page, dashboard, "/ui/hosts")
    count = int(page.locator("#open-alert-count").inner_text())
    with dashboard.api() as api:
        assert count == len(api.get("/api/v0/alerts").json()["alerts"]) >= 2
    web = page.locator(f"tr[data-host='{dashboard.hosts['web-1']}']")
    assert "CRITICAL" in web.locator(".host-alerts").inner_text()
    silent = page.locator(f"tr[data-host='{dashboard.hosts['silent-1']}']")
    assert silent.get_attribute("class") == "stale"
    assert silent.locator(".last-post").inner_text() == "never"
    assert "OK" in silent.locator(".host-alerts").inner_text()
    page.goto(f"{dashboard.url}/ui/hosts/{dashboard.hosts['silent-1']}")
    assert page.locator("#host-stale").inner_text() == "no posts yet"
    page.goto(f"{dashboard.url}/ui/monitors")
    row = page.locator("tr", has=page.locator("a.monitor-name", has_text="shop load"))
    assert row.locator(".monitor-state").inner_text().startswith("CRITICAL")
