"""Renders every dashboard page at a desktop (1440×900) and a phone (390×844) size into a
folder, for people to look at: `make screenshots` (writes screenshots/, not committed).

Starts a real server with the test suite's seed (three hosts, three hours of the agent's
metrics, a check, service metrics) on a fast clock, raises a load alert through a monitor
and adds a webhook channel, then signs in with Debian's chromium and saves full-page PNGs
named `<page>-<width>.png`, and the graph image the alert's webhook notification links to
(`notification-graph.png`, fetched without signing in, as Slack does).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS, sign_in
from tests.server.notify.receiver import Receiver, receiving
from tests.server.web.dashboard_server import (
    Dashboard,
    open_load_alert,
    running_server,
    seed,
)

SIZES = ((1440, 900), (390, 844))


def pages(dashboard: Dashboard, alert_id: str, channel_id: str) -> list[tuple[str, str]]:
    host = dashboard.hosts["web-1"]
    return [
        ("hosts", "/ui/hosts"),
        ("host", f"/ui/hosts/{host}#1d"),
        ("services", "/ui/services"),
        ("service", "/ui/services/shop"),
        ("alerts", "/ui/alerts?closed=true"),
        ("alert", f"/ui/alerts/{alert_id}"),
        ("monitors", "/ui/monitors"),
        ("monitor-form", "/ui/monitors/new/host"),
        ("channels", "/ui/channels"),
        ("channel", f"/ui/channels/{channel_id}"),
        ("groups", "/ui/notification-groups"),
        ("api-keys", "/ui/settings/api-keys"),
        ("time-zone", "/ui/settings/time-zone"),
    ]


def post_fresh_points(dashboard: Dashboard) -> None:
    """A point per host at the server's (fast) clock, so no host reads as silent."""
    at = int(dashboard.server_now())
    with dashboard.api() as api:
        points = [{"hostId": host_id, "name": "loadavg15", "time": at, "value": 0.3}
                  for host_id in dashboard.hosts.values()]  # fmt: skip
        api.post("/api/v0/tsdb", json=points)


def save_notification_graph(receiver: Receiver, target: Path, timeout: float = 30.0) -> None:
    """The PNG behind the first alert notification's `imageUrl`."""
    deadline = time.monotonic() + timeout
    while True:
        with receiver.lock:
            urls = [b["imageUrl"] for b in receiver.bodies if b.get("imageUrl")]
        if urls:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"no notification with an image within {timeout:g} s")
        time.sleep(0.1)
    answer = httpx.get(urls[0], timeout=10)
    answer.raise_for_status()
    target.write_bytes(answer.content)
    print(target)


def settle(page: Page) -> None:
    """Waits for the graphs or the monitor preview a page draws, if it has any."""
    if page.locator("figure.graph[data-src]").count():
        page.wait_for_selector("html[data-graphs-drawn]", state="attached", timeout=30_000)
    if page.locator("#monitor-preview").count():
        page.fill("#f-metric", "loadavg5")
        page.fill("#f-warning", "0.7")
        page.fill("#f-critical", "0.85")
        page.wait_for_selector("#monitor-preview svg line.threshold", state="attached")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_server(Path(tmp), 60.0) as dashboard,
        receiving() as receiver,
    ):
        seed(dashboard)
        with dashboard.api() as api:
            hook = {"type": "webhook", "name": "on call", "url": receiver.url,
                    "enabledGraphImage": True, "addToDefaultNotificationGroup": True}  # fmt: skip
            channel_id = api.post("/api/v0/channels", json=hook).json()["id"]
        alert_id = open_load_alert(dashboard, "shop load", 4.0)
        save_notification_graph(receiver, args.out / "notification-graph.png")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for width, height in SIZES:
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                sign_in(page, dashboard)
                for name, path in pages(dashboard, alert_id, channel_id):
                    post_fresh_points(dashboard)
                    page.goto(dashboard.url + path)
                    settle(page)
                    target = args.out / f"{name}-{width}.png"
                    page.screenshot(path=str(target), full_page=True)
                    print(target)
                context.close()
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
