"""The dashboard in a real browser: sign-in, hosts, graphs, ranges, zoom, escaping."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from playwright.sync_api import Page, Request
from tests.browser.chromium import sign_in
from tests.server.web.dashboard_server import XSS_NAME, Dashboard

INK = """(figure) => {
  const canvas = figure.querySelector('canvas');
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) inked++;
  return inked;
}"""


def data_requests(page: Page) -> list[dict[str, int]]:
    seen: list[dict[str, int]] = []

    def record(request: Request) -> None:
        if "/ui/data/" in request.url:
            query = parse_qs(urlparse(request.url).query)
            seen.append({"from": int(query["from"][0]), "to": int(query["to"][0])})

    page.on("request", record)
    return seen


def wait_drawn(page: Page, load: int) -> None:
    page.wait_for_selector(f"html[data-graphs-drawn='{load}']", state="attached")


def open_host(page: Page, dashboard: Dashboard, name: str = "web-1") -> None:
    page.goto(f"{dashboard.url}/ui/hosts/{dashboard.hosts[name]}")


def test_sign_in_lists_hosts_and_escapes_names(page: Page, dashboard: Dashboard) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, dashboard)
    names = page.locator("a.host-name").all_inner_texts()
    assert sorted(names) == sorted(["web-1", "db-1", XSS_NAME])
    open_host(page, dashboard, XSS_NAME)
    assert page.locator("h1.host-title").inner_text().startswith(XSS_NAME)
    wait_drawn(page, 1)
    assert dialogs == []


def test_host_page_draws_every_graph_with_data(page: Page, dashboard: Dashboard) -> None:
    requests = data_requests(page)
    sign_in(page, dashboard)
    open_host(page, dashboard)
    wait_drawn(page, 1)
    figures = page.locator("figure.graph")
    count = figures.count()
    assert count >= 9
    assert len(requests) == count  # one data request per graph
    for i in range(count):
        figure = figures.nth(i)
        assert figure.get_attribute("data-state") == "drawn"
        assert int(figure.get_attribute("data-points") or 0) > 0
        assert figure.evaluate(INK) > 500, figure.get_attribute("data-graph")
    span = requests[0]["to"] - requests[0]["from"]
    assert span == 86400  # the default range is one day
    # hovering shows values with units in the legend
    cpu = page.locator('figure[data-graph="cpu"]')
    cpu.scroll_into_view_if_needed()
    box = cpu.locator(".u-over").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] - 5, box["y"] + box["height"] / 2)
    assert "%" in cpu.locator("table.legend td.hover").first.inner_text()
    memory = page.locator('figure[data-graph="memory"]')
    page.mouse.move(box["x"] + box["width"] - 5, box["y"] + 10)
    assert "GiB" in memory.locator("table.legend td.hover").first.inner_text()


def test_range_buttons_change_the_requested_span(page: Page, dashboard: Dashboard) -> None:
    sign_in(page, dashboard)
    open_host(page, dashboard)
    wait_drawn(page, 1)
    requests = data_requests(page)
    page.click("#range button[data-span='1w']")
    wait_drawn(page, 2)
    assert requests and {r["to"] - r["from"] for r in requests} == {7 * 86400}
    assert page.locator('figure[data-graph="cpu"]').get_attribute("data-step") == "300"
    assert page.evaluate("location.hash") == "#1w"
    requests.clear()
    page.click("#range button[data-span='1h']")
    wait_drawn(page, 3)
    assert {r["to"] - r["from"] for r in requests} == {3600}


def test_drag_zooms_every_graph(page: Page, dashboard: Dashboard) -> None:
    sign_in(page, dashboard)
    page.goto(f"{dashboard.url}/ui/hosts/{dashboard.hosts['web-1']}#6h")
    wait_drawn(page, 1)
    requests = data_requests(page)
    over = page.locator('figure[data-graph="loadavg"] .u-over')
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.6, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, y, steps=5)
    page.mouse.up()
    wait_drawn(page, 2)
    spans = {r["to"] - r["from"] for r in requests}
    assert len(spans) == 1 and 3600 < spans.pop() < 3 * 3600  # ~20 % of 6 h
    assert page.evaluate("location.hash").startswith("#from=")


def test_custom_graph_follows_its_definition(page: Page, dashboard: Dashboard) -> None:
    sign_in(page, dashboard)
    open_host(page, dashboard)
    wait_drawn(page, 1)
    mail = page.locator('figure[data-graph="custom.queue.mail"]')
    assert mail.locator("figcaption").inner_text().startswith("Queue (mail)")
    legend = mail.locator("table.legend").inner_text()
    assert "mail waiting" in legend and "running" in legend
    assert mail.evaluate(INK) > 500


def test_phone_width_has_no_horizontal_scroll(page: Page, dashboard: Dashboard) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    sign_in(page, dashboard)
    open_host(page, dashboard)
    wait_drawn(page, 1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    widths = page.locator("figure.graph canvas").evaluate_all("cs => cs.map(c => c.clientWidth)")
    assert all(100 < w <= 390 for w in widths)
