"""`--outbound-networks` at definition time: a webhook or Slack channel, or an external
monitor, whose URL host is a literal address outside the networks is refused with a 400
naming `url`, on the API and on the dashboard's forms; host names pass (they are checked
each time they are resolved to connect)."""

from __future__ import annotations

import html
from collections.abc import Iterator
from typing import Any

import pytest
from dashboard_server import Dashboard, login_csrf, running_server
from test_web_monitors import field_error

ALLOWED = "10.0.0.0/8,fd00::/8"
OUTSIDE = "url: {} is outside the networks outbound requests may reach (10.0.0.0/8,fd00::/8;"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    data = tmp_path_factory.mktemp("outbound")
    with running_server(data, options=["--outbound-networks", ALLOWED]) as server:
        yield server


def refused(answer: Any, host: str) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["message"].startswith(OUTSIDE.format(host))


def test_the_api_refuses_literal_addresses_outside_the_networks(dashboard: Dashboard) -> None:
    with dashboard.api() as api:
        for url, host in [
            ("http://127.0.0.1:9/hook", "127.0.0.1"),
            ("https://[::1]/hook", "::1"),
            ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
            ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
        ]:
            hook = {"type": "webhook", "name": "hook", "url": url}
            refused(api.post("/api/v0/channels", json=hook), host)
            refused(api.post("/api/v0/channels", json={**hook, "type": "slack"}), host)
            monitor = {"type": "external", "name": "site", "url": url}
            refused(api.post("/api/v0/monitors", json=monitor), host)
        inside = api.post(
            "/api/v0/monitors", json={"type": "external", "name": "in", "url": "http://10.1.2.3/"}
        )
        assert inside.status_code == 200, inside.text
        by_name = api.post(
            "/api/v0/channels", json={"type": "webhook", "name": "n", "url": "http://localhost/"}
        )
        assert by_name.status_code == 200, by_name.text  # resolved, and checked, on connect
        monitor = {"type": "external", "name": "in", "url": "http://127.0.0.1/"}
        refused(api.put(f"/api/v0/monitors/{inside.json()['id']}", json=monitor), "127.0.0.1")
        channel = {"type": "webhook", "name": "n", "url": "http://[fe80::1%25eth0]/"}
        refused(api.put(f"/api/v0/channels/{by_name.json()['id']}", json=channel), "fe80::1%25eth0")
        names = {m["name"]: m["url"] for m in api.get("/api/v0/monitors").json()["monitors"]}
        assert names == {"in": "http://10.1.2.3/"}


def test_the_forms_refuse_them_beside_the_url_field(dashboard: Dashboard) -> None:
    with dashboard.signed_in() as client:
        token = login_csrf(client.get("/ui/channels/new/webhook").text)
        form = {"csrf": token, "name": "form hook", "url": "http://127.0.0.2/", "events": "alert"}
        answer = client.post("/ui/channels/new/webhook", data=form)
        assert answer.status_code == 400
        assert html.unescape(field_error(answer.text, "url")).startswith(
            OUTSIDE.format("127.0.0.2")
        )
        token = login_csrf(client.get("/ui/monitors/new/external").text)
        form = {"csrf": token, "name": "form site", "url": "http://192.168.0.1/", "method": "GET"}
        answer = client.post("/ui/monitors/new/external", data=form)
        assert answer.status_code == 400
        message = html.unescape(field_error(answer.text, "url"))
        assert message.startswith(OUTSIDE.format("192.168.0.1"))
        form["url"] = "http://10.9.9.9/"
        assert client.post("/ui/monitors/new/external", data=form).status_code == 303
