"""Graphs you can trust, in a real browser against the seeded server: nothing moves on
hover, stacked bands wear their legend colours, a metric has one colour everywhere, axes
fit their labels on round ticks, one named time zone, a last/min/avg/max legend, zoom that
Back, reload and double-click undo, compressed data and a pausable refresh that fetches
only new points."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, Page, Request, Response, Route
from tests.browser.chromium import sign_in
from tests.server.web.dashboard_server import Dashboard

PIXEL = """(canvas, [x, y]) => {
  const [r, g, b] = canvas.getContext('2d').getImageData(x, y, 1, 1).data;
  return `rgb(${r}, ${g}, ${b})`;
}"""
AXIS = """(figure) => {
  const axis = figure.sabamonPlot.axes[1];
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = axis.font[0];
  return {size: axis._size, splits: axis._splits,
          widest: Math.max(...axis._values.map((v) => ctx.measureText(v).width))};
}"""


@pytest.fixture
def tokyo_page(browser: Browser, dashboard: Dashboard) -> Iterator[Page]:
    """A browser whose own zone is America/New_York (the default the pages must take)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, timezone_id="America/New_York"
    )

    def only_our_origin(route: Route) -> None:
        if route.request.url.startswith(dashboard.url + "/"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_our_origin)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def open_host(page: Page, dashboard: Dashboard, name: str = "web-1", hash_: str = "") -> None:
    page.goto(f"{dashboard.url}/ui/hosts/{dashboard.hosts[name]}{hash_}")


def wait_drawn(page: Page, load: int) -> None:
    page.wait_for_selector(f"html[data-graphs-drawn='{load}']", state="attached")


def test_hover_moves_nothing_and_the_legend_is_a_stats_table(
    page: Page, dashboard: Dashboard
) -> None:
    sign_in(page, dashboard)
    open_host(page, dashboard)
    wait_drawn(page, 1)
    boxes = page.locator("figure.graph").evaluate_all(
        "fs => fs.map(f => [f.offsetTop, f.offsetHeight])"
    )
    for graph in ("loadavg", "interface.eth0", "memory"):
        over = page.locator(f'figure[data-graph="{graph}"] .u-over')
        over.scroll_into_view_if_needed()
        box = over.bounding_box()
        assert box is not None
        for fraction in (0.1, 0.5, 0.95):
            page.mouse.move(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)
            after = page.locator("figure.graph").evaluate_all(
                "fs => fs.map(f => [f.offsetTop, f.offsetHeight])"
            )
            assert after == boxes, f"hovering {graph} moved the cards"
    legend = page.locator('figure[data-graph="memory"] table.legend')
    assert legend.locator("thead").inner_text().split() == ["cursor", "last", "min", "avg", "max"]
    used = legend.locator("tr[data-metric='memory.used']")
    for column in ("last", "min", "avg", "max"):
        assert "GiB" in used.locator(f"td.{column}").inner_text()
    low = float(used.locator("td.min").inner_text().split()[0])
    high = float(used.locator("td.max").inner_text().split()[0])
    assert 1.8 <= low < high <= 2.8  # the seed's 2e9..3e9 bytes, in GiB


def test_stacked_bands_wear_their_legend_colours_and_a_metric_keeps_its_colour(
    page: Page, dashboard: Dashboard
) -> None:
    sign_in(page, dashboard)
    open_host(page, dashboard)
    wait_drawn(page, 1)
    memory = page.locator('figure[data-graph="memory"]')
    memory.scroll_into_view_if_needed()
    canvas = memory.locator("canvas")
    over, frame = memory.locator(".u-over").bounding_box(), canvas.bounding_box()
    assert over is not None and frame is not None
    x = int(over["x"] - frame["x"] + over["width"] - 8)
    y = int(over["y"] - frame["y"] + over["height"] - 4)  # inside the lowest band: used
    swatch = memory.locator("tr[data-metric='memory.used'] .swatch")
    assert canvas.evaluate(PIXEL, [x, y]) == swatch.evaluate(
        "s => getComputedStyle(s).backgroundColor"
    )

    def colour_of(metric: str) -> str:
        cell = page.locator(f"tr[data-metric='{metric}'] .swatch").first
        return str(cell.evaluate("s => getComputedStyle(s).borderTopColor"))

    here = {m: colour_of(m) for m in ("loadavg5", "memory.used", "cpu.user.percentage")}
    assert len(set(here.values())) == 3
    open_host(page, dashboard, "db-1")
    wait_drawn(page, 1)
    assert {m: colour_of(m) for m in here} == here


def test_axes_fit_their_labels_on_round_ticks(page: Page, dashboard: Dashboard) -> None:
    sign_in(page, dashboard)
    open_host(page, dashboard, hash_="#6h")
    wait_drawn(page, 1)
    for graph, binary in (("memory", True), ("interface.eth0", True), ("loadavg", False),
                          ("cpu", False), ("filesystem.sda1", True)):  # fmt: skip
        axis = page.locator(f'figure[data-graph="{graph}"]').evaluate(AXIS)
        assert axis["size"] >= axis["widest"] + 8, graph  # no digit cut off
        splits = axis["splits"]
        step = splits[1] - splits[0]
        if binary:
            power = 1024 ** max(0, int(__import__("math").log(step, 1024)))
            assert (step / power) in (0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512), graph
        else:
            mantissa = float(f"{step:e}".split("e")[0])
            assert mantissa in (1.0, 2.0, 5.0), (graph, step)
        assert all(abs(s / step - round(s / step)) < 1e-6 for s in splits), graph


def test_one_named_time_zone_the_browsers_by_default(
    tokyo_page: Page, dashboard: Dashboard
) -> None:
    page = tokyo_page
    sign_in(page, dashboard, "/ui/hosts")
    assert page.locator("#zone-select").input_value() == ""  # none chosen: the browser's
    assert page.evaluate("document.documentElement.dataset.timeZone") == "America/New_York"
    open_host(page, dashboard)
    wait_drawn(page, 1)
    assert page.locator("#range-label").inner_text().endswith("(America/New_York)")
    checks = page.locator("section.checks time").first
    assert checks.inner_text().endswith(("EST", "EDT"))
    page.select_option("#zone-select", "Asia/Tokyo")
    page.wait_for_load_state()
    wait_drawn(page, 1)
    assert page.locator("#range-label").inner_text().endswith("(Asia/Tokyo)")
    assert page.locator("section.checks time").first.inner_text().endswith(("JST", "GMT+9"))
    page.goto(f"{dashboard.url}/ui/alerts?closed=true")
    assert page.locator("#zone-select").input_value() == "Asia/Tokyo"
    with page.expect_navigation():  # the user's choice is kept on the server: undo it
        page.select_option("#zone-select", "")
    assert page.evaluate("document.documentElement.dataset.timeZone") == "America/New_York"


def test_zoom_lives_in_the_url_and_is_undone_by_back_reload_and_double_click(
    page: Page, dashboard: Dashboard
) -> None:
    sign_in(page, dashboard)
    open_host(page, dashboard, hash_="#6h")
    wait_drawn(page, 1)
    over = page.locator('figure[data-graph="loadavg"] .u-over')
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    assert box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.5, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.7, y, steps=5)
    page.mouse.up()
    wait_drawn(page, 2)
    zoomed = page.evaluate("location.hash")
    assert zoomed.startswith("#from=") and zoomed.endswith("&base=6h")
    assert page.locator("#reset-zoom").is_visible()
    page.reload()
    wait_drawn(page, 1)
    assert page.evaluate("location.hash") == zoomed
    frm = parse_qs(zoomed[1:])["from"][0]
    assert page.locator('figure[data-graph="loadavg"]').get_attribute("data-from") == frm
    page.go_back()  # Back returns to the range before the zoom, on the same page
    wait_drawn(page, 2)
    assert page.evaluate("location.hash") == "#6h"
    assert page.url.split("#")[0].endswith(dashboard.hosts["web-1"])
    page.go_forward()
    wait_drawn(page, 3)
    page.locator('figure[data-graph="loadavg"] .u-over').dblclick()
    wait_drawn(page, 4)
    assert page.evaluate("location.hash") == "#6h"
    assert not page.locator("#reset-zoom").is_visible()


def test_data_is_compressed_and_the_refresh_fetches_only_new_points(
    page: Page, dashboard: Dashboard
) -> None:
    encodings: list[tuple[str, int]] = []
    refreshes: list[Request] = []

    def record(response: Response) -> None:
        if "/ui/data/" in response.url:
            encoding = response.headers.get("content-encoding", "")
            encodings.append((encoding, len(response.body())))

    page.on("response", record)
    page.on("request", lambda r: refreshes.append(r) if "since=" in r.url else None)
    sign_in(page, dashboard)
    open_host(page, dashboard)
    wait_drawn(page, 1)
    assert encodings and {e for e, size in encodings if size > 1024} == {"gzip"}
    before = int(page.locator('figure[data-graph="loadavg"]').get_attribute("data-points") or 0)
    page.evaluate("window.sabamonRefreshNow()")
    wait_drawn(page, 2)
    assert len(refreshes) == page.locator("figure.graph").count()
    since = int(parse_qs(urlparse(refreshes[0].url).query)["since"][0])
    figure = page.locator('figure[data-graph="loadavg"]')
    step = int(figure.get_attribute("data-step") or 0)
    assert since >= dashboard.now - step  # from the newest bucket shown, not the whole day
    assert int(figure.get_attribute("data-refreshed-points") or 99) <= 2
    assert int(figure.get_attribute("data-points") or 0) >= before - 2
    assert "refreshes every minute" in page.locator("#refresh-state").inner_text()
    page.click("#refresh-toggle")
    assert page.locator("#refresh-toggle").get_attribute("aria-pressed") == "true"
    assert page.locator("#refresh-state").inner_text() == "paused"
