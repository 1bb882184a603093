"""Slack and email renderings of an alert event, and notification group routing."""

from __future__ import annotations

from sabamon.server.notify.events import AlertEvent
from sabamon.server.notify.groups import route, validate_group
from sabamon.server.notify.payload import email_body, slack_body
from sabamon.server.store.records import Document

EVENT = AlertEvent(
    org_name="acme",
    base_url="http://s.test",
    alert={"id": "al1", "status": "CRITICAL", "openedAt": 60, "monitorId": "m1", "value": 3.0},
    monitor={"id": "m1", "type": "host", "name": "load", "metric": "loadavg5"},
    trigger="monitoring",
    changed_at=60,
    message="loadavg5 3.00 > threshold",
    host={"id": "h1", "name": "web1", "status": "working", "roles": {}},
)


def test_slack_message_with_mention() -> None:
    body = slack_body(EVENT, {"mentions": {"critical": "<!channel>"}})
    assert body["text"] == "<!channel> [acme] CRITICAL: load web1"
    [attachment] = body["attachments"]
    assert (
        attachment["color"] == "danger"
        and attachment["title_link"] == "http://s.test/ui/alerts/al1"
    )
    assert attachment["text"] == "loadavg5 3.00 > threshold"


def test_email_subject_and_text() -> None:
    mail = email_body(EVENT)
    assert mail["subject"] == "[acme] CRITICAL: load web1"
    assert "Alert: http://s.test/ui/alerts/al1" in mail["text"]


def test_routing_by_groups_levels_and_skip_default() -> None:
    channels = [Document(c, {"type": "webhook", "events": ["alert"]}) for c in ("a", "b", "c")]
    default = Document("g0", {**validate_group({"name": "Default", "childChannelIds": ["a"]}),
                              "type": "group-default"})  # fmt: skip
    critical = Document("g1", validate_group({"name": "oncall", "notificationLevel": "critical",
                                              "childChannelIds": ["b"],
                                              "monitors": [{"id": "m1"}]}))  # fmt: skip
    web = Document("g2", validate_group({"name": "web", "childChannelIds": ["c"],
                                         "services": [{"name": "web"}]}))  # fmt: skip
    groups = [default, critical, web]

    def receivers(monitor_id: str, status: str, was_critical: bool = False) -> list[str]:
        return route(groups, channels, monitor_id=monitor_id, services={"web"}, status=status,
                     was_critical=was_critical)  # fmt: skip

    assert receivers("m1", "WARNING") == ["a", "c"]
    assert receivers("m1", "CRITICAL") == ["a", "b", "c"]
    assert receivers("m1", "OK", was_critical=True) == ["a", "b", "c"]
    skip = Document(
        "g3", validate_group({"name": "s", "monitors": [{"id": "m9", "skipDefault": True}]})
    )
    assert route([default, skip], channels, monitor_id="m9", services=set(), status="CRITICAL",
                 was_critical=False) == []  # fmt: skip
    assert route([], channels, monitor_id="m", services=set(), status="OK", was_critical=False) == [
        "a", "b", "c"]  # fmt: skip


def test_links_open_the_dashboard_pages_and_the_graph_travels_along() -> None:
    import dataclasses
    import xml.etree.ElementTree as ET

    from sabamon.server.alerts.explain import AlertGraph
    from sabamon.server.graphing.chart import Chart
    from sabamon.server.graphing.svg import render_svg
    from sabamon.server.notify.payload import webhook_body

    points = [(60 * i, float(i)) for i in range(10)]
    chart = Chart(points, 0, 600, "float", "loadavg5")
    svg = render_svg(chart)
    graph = AlertGraph(chart, "loadavg5", svg, "▁▂▃")
    event = dataclasses.replace(
        EVENT, host={**(EVENT.host or {}), "roles": {"shop": ["web"]}}, graph=graph
    )
    body = webhook_body(event)
    assert body["alert"]["url"] == "http://s.test/ui/alerts/al1"
    assert body["host"]["url"] == "http://s.test/ui/hosts/h1"
    assert body["host"]["roles"][0]["serviceUrl"] == "http://s.test/ui/services/shop"
    assert body["host"]["roles"][0]["roleUrl"] == "http://s.test/ui/services/shop#role=web"
    assert ET.fromstring(body["graphSvg"]).tag.endswith("svg")
    [attachment] = slack_body(event)["attachments"]
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert "▁▂▃" in fields["Graph"]
    assert "http://s.test/ui/hosts/h1#from=0&to=600" in fields["Host"]
    mail = email_body(event)
    assert "loadavg5, last 10 min: ▁▂▃" in mail["text"]
    assert "Host: http://s.test/ui/hosts/h1#from=0&to=600" in mail["text"]
    assert "graphPng" not in mail and "<img" not in mail["html"]  # no PNG drawn: no image


def test_the_png_graph_travels_by_address_and_in_the_mail() -> None:
    """With a published image, Slack and webhook channels that enable graph images get its
    address (Slack instead of the block characters), and the mail carries the PNG itself."""
    import base64
    import dataclasses

    from sabamon.server.alerts.explain import AlertGraph
    from sabamon.server.graphing.chart import Chart
    from sabamon.server.notify.payload import GRAPH_CID, render

    url = "http://s.test/graphs/" + "t" * 43 + ".png"
    chart = Chart([(0, 1.0), (60, 2.0)], 0, 600, "float", "loadavg5 · web1")
    graph = AlertGraph(chart, "loadavg5", "<svg/>", "▁█", png=b"\x89PNG...", image_url=url)
    event = dataclasses.replace(EVENT, graph=graph)
    on = {"enabledGraphImage": True}
    assert render({"type": "webhook", **on}, event)["imageUrl"] == url
    assert render({"type": "webhook"}, event)["imageUrl"] is None  # the channel's choice
    [attachment] = render({"type": "slack", **on}, event)["attachments"]
    assert attachment["image_url"] == url and "Graph" not in str(attachment["fields"])
    [attachment] = render({"type": "slack"}, event)["attachments"]
    assert "image_url" not in attachment and "▁█" in str(attachment["fields"])
    mail = render({"type": "email"}, event)
    assert base64.b64decode(mail["graphPng"]) == b"\x89PNG..."
    assert f'src="cid:{GRAPH_CID}"' in mail["html"] and "▁█" in mail["text"]
    unpublished = dataclasses.replace(event, graph=dataclasses.replace(graph, image_url=None))
    assert render({"type": "webhook", **on}, unpublished)["imageUrl"] is None
    [attachment] = render({"type": "slack", **on}, unpublished)["attachments"]
    assert "image_url" not in attachment and "▁█" in str(attachment["fields"])


def test_the_public_url_option() -> None:
    import pytest

    from sabamon.server.public_url import host_url, listen_url, parse_public_url

    assert parse_public_url("https://mon.example.com/") == "https://mon.example.com"
    assert parse_public_url("http://10.0.0.5:8080/sabamon") == "http://10.0.0.5:8080/sabamon"
    for bad in ("mon.example.com", "ftp://x", "https://x/?a=1", "https://x/#top"):
        with pytest.raises(ValueError, match="--public-url"):
            parse_public_url(bad)
    assert listen_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert listen_url("::", 80) == "http://[::1]:80"
    assert host_url("https://m", "h 1", (1, 2)) == "https://m/ui/hosts/h%201#from=1&to=2"
