"""The per-graph data endpoints and the pages, against a real seeded server."""

from __future__ import annotations

from urllib.parse import quote

import httpx
from dashboard_server import SEED_MINUTES, XSS_NAME, Dashboard


def graph(client: httpx.Client, host_id: str, graph_id: str, frm: int, to: int) -> httpx.Response:
    return client.get(
        f"/ui/data/host/{host_id}/graph/{quote(graph_id, safe='')}",
        params={"from": frm, "to": to},
    )


def test_system_graph_returns_every_series_on_one_axis(dashboard: Dashboard) -> None:
    host_id, now = dashboard.hosts["web-1"], dashboard.now
    with dashboard.signed_in() as client:
        body = graph(client, host_id, "cpu", now - 3 * 3600, now + 60).json()
    assert body["unit"] == "percentage" and body["step"] == 60
    assert [s["label"] for s in body["series"]] == ["user", "system", "iowait", "idle"]
    assert all(s["stacked"] for s in body["series"])
    assert len(body["times"]) == SEED_MINUTES
    assert body["times"] == sorted(body["times"])
    assert all(len(column) == len(body["times"]) for column in body["values"])
    assert body["values"][1][0] == 5.0  # cpu.system.percentage as posted


def test_step_follows_the_span(dashboard: Dashboard) -> None:
    host_id, now = dashboard.hosts["web-1"], dashboard.now
    steps = {}
    with dashboard.signed_in() as client:
        for span in (3600, 86400, 30 * 86400, 365 * 86400):
            steps[span] = graph(client, host_id, "loadavg", now - span, now).json()["step"]
    assert steps == {3600: 60, 86400: 300, 30 * 86400: 3600, 365 * 86400: 86400}


def test_device_and_custom_graphs_follow_definitions(dashboard: Dashboard) -> None:
    host_id, now = dashboard.hosts["web-1"], dashboard.now
    with dashboard.signed_in() as client:
        page = client.get(f"/ui/hosts/{host_id}").text
        for graph_id in (
            "loadavg",
            "cpu",
            "memory",
            "disk.sda",
            "interface.eth0",
            "filesystem.sda1",
            "custom.queue.mail",
            "custom.queue.sms",
            "custom.misc",
        ):
            assert f'data-graph="{graph_id}"' in page, graph_id
        mail = graph(client, host_id, "custom.queue.mail", now - 3600, now).json()
        net = graph(client, host_id, "interface.eth0", now - 3600, now).json()
    assert mail["unit"] == "integer" and mail["title"] == "Queue (mail)"
    assert [s["label"] for s in mail["series"]] == ["mail waiting", "running"]
    assert net["unit"] == "bytes/sec"
    assert [s["label"] for s in net["series"]] == ["rx", "tx"]


def test_bad_ranges_and_unknown_graphs_are_clear_4xx(dashboard: Dashboard) -> None:
    host_id, now = dashboard.hosts["web-1"], dashboard.now
    with dashboard.signed_in() as client:
        backwards = graph(client, host_id, "cpu", now, now - 60)
        unknown_graph = graph(client, host_id, "nope", now - 60, now)
        unknown_host = graph(client, "xxxxxxxxxxx", "cpu", now - 60, now)
        missing = client.get(f"/ui/data/host/{host_id}/graph/cpu?from=1")
        huge = graph(client, host_id, "cpu", 2**70, 2**70 + 60)
    assert huge.status_code == 400 and "epoch seconds" in huge.json()["error"]["message"]
    assert backwards.status_code == 400
    assert "must be after `from`" in backwards.json()["error"]["message"]
    assert unknown_graph.status_code == 404 and "'nope'" in unknown_graph.json()["error"]["message"]
    assert unknown_host.status_code == 404
    assert missing.status_code == 400 and "to" in missing.json()["error"]["message"]


def test_service_graph_data(dashboard: Dashboard) -> None:
    now = dashboard.now
    with dashboard.signed_in() as client:
        page = client.get("/ui/services/shop")
        body = client.get(
            "/ui/data/service/shop/graph/orders", params={"from": now - 7200, "to": now}
        ).json()
    assert page.status_code == 200 and 'data-graph="orders"' in page.text
    assert "web-1" in page.text and "db-1" in page.text
    assert body["series"] == [
        {"metric": "orders.count", "label": "count", "stacked": False, "key": "orders.count"}
    ]
    assert len(body["times"]) == 60


def test_hosts_page_lists_filters_and_escapes(dashboard: Dashboard) -> None:
    with dashboard.signed_in() as client:
        everything = client.get("/ui/hosts").text
        databases = client.get("/ui/hosts", params={"service": "shop", "role": "db"}).text
        by_name = client.get("/ui/hosts", params={"name": "WEB"}).text
        standby = client.get("/ui/hosts", params={"status": "standby"}).text
    assert "web-1" in everything and "db-1" in everything
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in everything
    assert XSS_NAME not in everything
    assert "db-1" in databases and "web-1" not in databases
    assert "web-1" in by_name and "db-1" not in by_name
    assert "No hosts match." in standby
    # glance figures: web-1 has 2 CPUs; idle 164..174 of ~200 → CPU % in the teens
    row = everything.split("web-1</a>")[1].split("</tr>")[0]
    cells = [c.split("<")[0] for c in row.split('<td class="num">')[1:]]
    assert float(cells[0]) > 0 and 5 < float(cells[1]) < 30 and 20 < float(cells[2]) < 50


def test_host_page_shows_summary_and_escaped_checks(dashboard: Dashboard) -> None:
    with dashboard.signed_in() as client:
        page = client.get(f"/ui/hosts/{dashboard.hosts['web-1']}").text
        hostile = client.get(f"/ui/hosts/{dashboard.hosts[XSS_NAME]}").text
        missing = client.get("/ui/hosts/doesnotexist")
    assert "Debian 12" in page and "Test CPU" in page and "7.6 GiB" in page
    assert "eth0 10.0.0.5" in page and "sda" in page
    assert "HTTP 503 &lt;b&gt;down&lt;/b&gt;" in page and "CRITICAL" in page
    assert XSS_NAME not in hostile and "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert missing.status_code == 404
