"""The alerting API on a real server (uvicorn on loopback), over SQLite and PostgreSQL:
monitors as Mackerel's JSON, alerts with paging, channels with a test notification and
delivery log, and the whole path from a posted point to a webhook."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.api.api_server import Backend, ManualClock, free_socket, serve_in_thread
from tests.server.notify.receiver import Receiver, receiving

from sabamon.server.alerts.scheduler import AlertingOptions
from sabamon.server.app import create_app
from sabamon.server.cli import bootstrap

FAST = AlertingOptions(poll_interval=0.02, delivery_poll_interval=0.02, base_url="http://s.test")


class Server:
    def __init__(self, url: str, key: str, clock: ManualClock) -> None:
        self.url, self.key, self.clock = url, key, clock

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-Api-Key": self.key}, timeout=10)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_dsn")
    backend = Backend(request.param, url, tmp_path)
    key = asyncio.run(bootstrap(backend.store()))
    assert key is not None
    clock = ManualClock()
    sock = free_socket()
    running, thread = serve_in_thread(create_app(backend.store(), clock=clock, alerting=FAST), sock)
    try:
        yield Server(f"http://127.0.0.1:{sock.getsockname()[1]}", key.key, clock)
    finally:
        running.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"]["message"])


HOST_MONITOR = {
    "type": "host", "name": "load", "metric": "loadavg5", "operator": ">", "warning": 1.0,
    "critical": 2.0, "duration": 1, "maxCheckAttempts": 1, "scopes": [], "excludeScopes": [],
    "memo": "", "isMute": False,
}  # fmt: skip


def test_monitor_crud_in_mackerel_shape(server: Server) -> None:
    with server.client() as http:
        created = ok(http.post("/api/v0/monitors", json=HOST_MONITOR))
        assert created == {"id": created["id"], **HOST_MONITOR}
        ok(http.post("/api/v0/monitors", json={"type": "connectivity"}))
        ok(http.post("/api/v0/monitors", json={**HOST_MONITOR, "name": "a-load"}))
        listed = ok(http.get("/api/v0/monitors"))["monitors"]
        assert [(m["type"], m["name"]) for m in listed] == [
            ("connectivity", "connectivity"), ("host", "a-load"), ("host", "load"),
        ]  # fmt: skip
        assert ok(http.get(f"/api/v0/monitors/{created['id']}"))["monitor"] == created
        replacement = {**HOST_MONITOR, "scopes": ["web"], "warning": 1.5}
        replaced = ok(http.put(f"/api/v0/monitors/{created['id']}", json=replacement))
        assert replaced["scopes"] == ["web"] and replaced["warning"] == 1.5
        assert ok(http.delete(f"/api/v0/monitors/{created['id']}")) == replaced
        assert "not found" in error(http.get(f"/api/v0/monitors/{created['id']}"), 404)
        assert error(
            http.post("/api/v0/monitors", json={**HOST_MONITOR, "operator": "!"}), 400
        ) == ("operator: must be '>' or '<'")
        assert error(http.put(f"/api/v0/monitors/{listed[0]['id']}", json=HOST_MONITOR), 400) == (
            "type: cannot be changed"
        )
        assert "malformed JSON" in error(http.post("/api/v0/monitors", content=b"{"), 400)


MONITORS_OF_EVERY_TYPE = [
    HOST_MONITOR,
    {"type": "connectivity"},
    {"type": "service", "name": "s", "service": "shop", "metric": "m", "operator": ">",
     "warning": 1},
    {"type": "external", "name": "e", "url": "http://127.0.0.1:8/"},
    {"type": "expression", "name": "x", "expression": "max(roleSlots(\"shop:web\", \"loadavg5\"))",
     "operator": ">", "warning": 1},
]  # fmt: skip


def test_monitor_scopes_must_be_lists_for_every_type(server: Server) -> None:
    """Scopes choose hosts of host and connectivity monitors; on the other types they are
    ignored like any field the type lacks, but a scope that is not a list is a 400 on
    every type rather than a silent no-op."""
    with server.client() as http:
        for monitor in MONITORS_OF_EVERY_TYPE:
            for field in ("scopes", "excludeScopes"):
                for bad in ("shop", {"shop": "web"}, [1], [""]):
                    answer = error(http.post("/api/v0/monitors", json={**monitor, field: bad}), 400)
                    assert answer.startswith(f"{field}: must be a list"), (monitor["type"], answer)
            created = ok(http.post("/api/v0/monitors", json={**monitor, "scopes": ["shop"],
                                                             "unknownField": 1}))  # fmt: skip
            assert "unknownField" not in created
            assert ("scopes" in created) == (monitor["type"] in ("host", "connectivity"))


def test_monitor_scopes_are_bounded(server: Server) -> None:
    """Every host is matched against a monitor's scopes each minute: 1,000 names of at most
    255 characters each, in `scopes` and in `excludeScopes`."""
    with server.client() as http:
        for field in ("scopes", "excludeScopes"):
            names = [f"svc{index}:role" for index in range(1000)]
            ok(http.post("/api/v0/monitors", json={**HOST_MONITOR, field: names}))
            too_many = {**HOST_MONITOR, field: [*names, "one:more"]}
            answer = error(http.post("/api/v0/monitors", json=too_many), 400)
            assert answer == f"{field}: at most 1000 names"
            too_long = {**HOST_MONITOR, field: ["s" * 256]}
            answer = error(http.post("/api/v0/monitors", json=too_long), 400)
            assert answer.startswith(f"{field}: must be a list") and "at most 255" in answer


def test_expressions_are_at_most_10000_characters(server: Server) -> None:
    """An expression is parsed and its series read each minute: 50,000 `host()` series in
    one `group()` took 0.6 s of the event loop per parse."""
    refs = ",".join(f'host("h{index:05d}", "loadavg5")' for index in range(350))
    expression = {"type": "expression", "name": "x", "operator": ">", "warning": 1}
    with server.client() as http:
        fits = f"avg(group({refs}))"
        assert len(fits) <= 10_000
        ok(http.post("/api/v0/monitors", json={**expression, "expression": fits}))
        too_long = f"avg(group({refs},{refs}))"
        answer = error(
            http.post("/api/v0/monitors", json={**expression, "expression": too_long}), 400
        )
        assert answer == "expression: must be at most 10000 characters"


def test_downtime_windows_are_at_most_ten_years(server: Server) -> None:
    hourly = {"name": "d", "start": 1, "recurrence": {"type": "hourly", "interval": 1}}
    with server.client() as http:
        ok(http.post("/api/v0/downtimes", json={**hourly, "duration": 5_270_400}))
        answer = error(http.post("/api/v0/downtimes", json={**hourly, "duration": 10**9}), 400)
        assert answer == "duration: must be at most 5270400 minutes (about ten years)"


BAD_URLS = {
    "http://127.0.0.1:99999/": "url: port 99999: must be from 1 to 65535",
    "http://127.0.0.1:0/": "url: port 0: must be from 1 to 65535",
    "http://[::1/": "url: is not a valid URL (",
    "http://[zz::1]/": "url: is not a valid URL (",
    "http://999.1.1.1/": "url: is not a valid URL (",
    "ftp://example.com/": "url: must be an http or https URL",
    "http:///path": "url: must name a host",
    "http://example.com/" + "a" * 2048: "url: must be at most 2048 characters",
}


def test_channel_and_external_monitor_urls_no_request_can_take_are_400(server: Server) -> None:
    external = {"type": "external", "name": "site", "url": "http://127.0.0.1:8/"}
    with server.client() as http:
        hook = ok(http.post("/api/v0/channels", json={"type": "webhook", "name": "h",
                                                      "url": "http://127.0.0.1:8/"}))  # fmt: skip
        monitor = ok(http.post("/api/v0/monitors", json=external))
        for url, message in BAD_URLS.items():
            for kind in ("webhook", "slack"):
                channel = {"type": kind, "name": "c", "url": url}
                answer = error(http.post("/api/v0/channels", json=channel), 400)
                assert answer.startswith(message), (url, answer)
            answer = error(
                http.put(f"/api/v0/channels/{hook['id']}", json={**hook, "url": url}), 400
            )
            assert answer.startswith(message), (url, answer)
            answer = error(http.post("/api/v0/monitors", json={**external, "url": url}), 400)
            assert answer.startswith(message), (url, answer)
            answer = error(
                http.put(f"/api/v0/monitors/{monitor['id']}", json={**external, "url": url}), 400
            )
            assert answer.startswith(message), (url, answer)
        assert [c["url"] for c in ok(http.get("/api/v0/channels"))["channels"]] == [hook["url"]]
        assert [m["url"] for m in ok(http.get("/api/v0/monitors"))["monitors"]] == [external["url"]]


def test_external_monitor_headers_that_cannot_be_sent_are_400(server: Server) -> None:
    external = {"type": "external", "name": "site", "url": "http://127.0.0.1:8/"}
    bad = {
        ("X Probe", "v"): "headers[1].name: must be a header name",
        ("", "v"): "headers[1].name: must be a header name",
        ("X-Probe", "a\r\nInjected: 1"): "headers[1].value: must be text without control",
        ("X-Probe", "a\u001b[31m"): "headers[1].value: must be text without control",
    }
    with server.client() as http:
        for (name, value), message in bad.items():
            headers = [{"name": "X-Fine", "value": "ok"}, {"name": name, "value": value}]
            answer = error(
                http.post("/api/v0/monitors", json={**external, "headers": headers}), 400
            )
            assert answer.startswith(message), answer
        fine = [{"name": "X-Probe", "value": "café\tau lait"}]
        assert (
            ok(http.post("/api/v0/monitors", json={**external, "headers": fine}))["headers"] == fine
        )


def test_channels_test_notification_and_delivery_log(server: Server, receiver: Receiver) -> None:
    with server.client() as http:
        channel = ok(http.post("/api/v0/channels", json={
            "type": "webhook", "name": "hook", "url": receiver.url, "events": ["alert"],
            "addToDefaultNotificationGroup": True}))  # fmt: skip
        assert channel["suspendedAt"] is None and channel["enabledGraphImage"] is False
        assert "url:" in error(
            http.post("/api/v0/channels", json={"type": "webhook", "name": "x"}), 400
        )
        groups = ok(http.get("/api/v0/notification-groups"))["notificationGroups"]
        assert groups[0]["type"] == "group-default" and groups[0]["childChannelIds"] == [
            channel["id"]
        ]
        assert "cannot be deleted" in error(
            http.delete(f"/api/v0/notification-groups/{groups[0]['id']}"), 400
        )
        ok(http.post(f"/api/v0/channels/{channel['id']}/test"))
        assert receiver.wait_for(1) == [
            {"event": "sample", "message": "Sample Notification from Mackerel"}
        ]
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            log = ok(http.get(f"/api/v0/channels/{channel['id']}/deliveries"))["deliveries"]
            if log and log[0]["state"] == "sent":
                break
            time.sleep(0.02)
        assert log[0]["state"] == "sent" and log[0]["attempts"] == 1


def test_point_to_webhook_alerts_paging_close_and_statuses(
    server: Server, receiver: Receiver
) -> None:
    with server.client() as http:
        ok(
            http.post(
                "/api/v0/channels", json={"type": "webhook", "name": "h", "url": receiver.url}
            )
        )
        monitor = ok(http.post("/api/v0/monitors", json=HOST_MONITOR))
        hosts = [ok(http.post("/api/v0/hosts", json={"name": f"web{i}", "meta": {}}))["id"]
                 for i in range(3)]  # fmt: skip
        minute = int(server.clock()) // 60 * 60 + 60
        server.clock.offset += minute + 50 - server.clock()  # 50 s into the minute
        posted_at = server.clock()
        points = [{"hostId": h, "name": "loadavg5", "time": minute, "value": 3.0} for h in hosts]
        ok(http.post("/api/v0/tsdb", json=points))
        server.clock.offset += minute + 91 - server.clock()  # the minute is ready (30 s grace)
        bodies = receiver.wait_for(3)
        assert sorted(b["host"]["id"] for b in bodies) == sorted(hosts)
        assert {b["alert"]["status"] for b in bodies} == {"critical"}
        assert server.clock() - posted_at <= 90

        page = ok(http.get("/api/v0/alerts", params={"limit": 2}))
        assert len(page["alerts"]) == 2 and "nextId" in page
        rest = ok(http.get("/api/v0/alerts", params={"limit": 2, "nextId": page["nextId"]}))
        assert len(rest["alerts"]) == 1 and "nextId" not in rest
        assert "limit: must be from 1 to 100" in error(http.get("/api/v0/alerts?limit=101"), 400)
        alert = page["alerts"][0]
        assert ok(http.get(f"/api/v0/alerts/{alert['id']}"))["monitorId"] == monitor["id"]
        assert ok(http.put(f"/api/v0/alerts/{alert['id']}", json={"memo": "on it"})) == {
            "id": alert["id"], "memo": "on it"}  # fmt: skip
        closed = ok(http.post(f"/api/v0/alerts/{alert['id']}/close", json={"reason": "fixed"}))
        assert (closed["status"], closed["reason"]) == ("OK", "fixed") and "closedAt" in closed
        logs = ok(http.get(f"/api/v0/alerts/{alert['id']}/logs"))["logs"]
        assert [(log["status"], log["trigger"]) for log in logs] == [
            ("OK", "manual"), ("CRITICAL", "monitoring"),
        ]  # fmt: skip
        assert len(ok(http.get("/api/v0/alerts"))["alerts"]) == 2
        assert len(ok(http.get("/api/v0/alerts?withClosed=true"))["alerts"]) == 3

        statuses = ok(http.get(f"/api/v0/hosts/{hosts[0]}/monitored-statuses"))
        assert statuses == {
            "monitoredStatuses": [{"monitorId": monitor["id"], "status": "CRITICAL"}]
        }

        retired, kept = [h for h in hosts if h != alert["hostId"]]
        ok(http.post(f"/api/v0/hosts/{retired}/retire", json={}))
        ok(http.delete(f"/api/v0/monitors/{monitor['id']}"))
        assert ok(http.get("/api/v0/alerts"))["alerts"] == []
        everything = ok(http.get("/api/v0/alerts?withClosed=true"))["alerts"]
        triggers = {
            a["id"]: ok(http.get(f"/api/v0/alerts/{a['id']}/logs"))["logs"][0]["trigger"]
            for a in everything
        }
        assert sorted(triggers.values()) == ["hostRetire", "manual", "monitorDelete"]
        closes = receiver.wait_for(6)[3:]  # each close is notified, as Mackerel does
        assert sorted(
            (b["host"]["id"], b["alert"]["trigger"], b["alert"]["status"], b["alert"]["isOpen"])
            for b in closes
        ) == sorted([
            (alert["hostId"], "manual close", "ok", False),
            (retired, "retire host", "ok", False),
            (kept, "delete monitor", "ok", False),
        ])  # fmt: skip
        assert {b["alert"]["monitorName"] for b in closes} == {"load"}


def test_a_check_report_opens_and_closes_its_alert_within_seconds(
    server: Server, receiver: Receiver
) -> None:
    """Mackerel's check monitoring answers a report at once; metric monitors keep their
    minute. The server's clock stays inside the minute: only the fast path can act."""
    with server.client() as http:
        ok(
            http.post(
                "/api/v0/channels", json={"type": "webhook", "name": "h", "url": receiver.url}
            )
        )
        ok(http.post("/api/v0/monitors", json=HOST_MONITOR))
        host = ok(http.post("/api/v0/hosts", json={"name": "web", "meta": {}}))["id"]
        minute = int(server.clock()) // 60 * 60 + 60
        server.clock.offset += minute + 5 - server.clock()
        ok(http.post("/api/v0/tsdb", json=[{"hostId": host, "name": "loadavg5", "time": minute,
                                             "value": 3.0}]))  # fmt: skip

        def report(status: str, at: int) -> None:
            body = {
                "reports": [
                    {
                        "source": {"type": "host", "hostId": host},
                        "name": "ssh",
                        "status": status,
                        "message": f"ssh {status}",
                        "occurredAt": at,
                    }
                ]
            }
            ok(http.post("/api/v0/monitoring/checks/report", json=body))  # fmt: skip

        started = time.monotonic()
        report("CRITICAL", minute + 5)
        (opened,) = receiver.wait_for(1, timeout=5)
        assert time.monotonic() - started <= 5
        assert (opened["alert"]["status"], opened["alert"]["isOpen"]) == ("critical", True)
        assert opened["alert"]["monitorName"] == "ssh"
        alerts = ok(http.get("/api/v0/alerts"))["alerts"]
        assert [(a["type"], a["status"]) for a in alerts] == [("check", "CRITICAL")]

        server.clock.offset += minute + 65 - server.clock()  # host minute not ready (90 s)
        started = time.monotonic()
        report("OK", minute + 65)
        closed = receiver.wait_for(2, timeout=5)[1]
        assert time.monotonic() - started <= 5
        assert (closed["alert"]["status"], closed["alert"]["isOpen"]) == ("ok", False)
        assert ok(http.get("/api/v0/alerts"))["alerts"] == []

        server.clock.offset += minute + 91 - server.clock()  # the metric monitor's minute
        host_alert = receiver.wait_for(3)[2]
        assert host_alert["alert"]["monitorName"] == "load"


def test_deleting_a_monitor_notifies_the_groups_that_named_it(
    server: Server, receiver: Receiver
) -> None:
    """The deletion removes the monitor from its groups, but its alerts' closing is routed
    as the groups stood before: to the channel of the group naming it (not in the default
    group, which `skipDefault` leaves out)."""
    with server.client() as http:
        group = ok(http.post("/api/v0/notification-groups", json={"name": "load"}))
        channel = {"type": "webhook", "name": "load", "url": receiver.url}
        channel_id = ok(http.post("/api/v0/channels", json=channel))["id"]
        monitor = ok(http.post("/api/v0/monitors", json=HOST_MONITOR))
        named = {"name": "load", "childChannelIds": [channel_id],
                 "monitors": [{"id": monitor["id"], "skipDefault": True}]}  # fmt: skip
        ok(http.put(f"/api/v0/notification-groups/{group['id']}", json=named))
        host = ok(http.post("/api/v0/hosts", json={"name": "web", "meta": {}}))["id"]
        minute = int(server.clock()) // 60 * 60 + 60
        server.clock.offset += minute + 50 - server.clock()
        point = {"hostId": host, "name": "loadavg5", "time": minute, "value": 3.0}
        ok(http.post("/api/v0/tsdb", json=[point]))
        server.clock.offset += minute + 91 - server.clock()
        assert receiver.wait_for(1)[0]["alert"]["status"] == "critical"
        ok(http.delete(f"/api/v0/monitors/{monitor['id']}"))
        closed = receiver.wait_for(2)[1]
        assert (closed["alert"]["trigger"], closed["alert"]["isOpen"]) == ("delete monitor", False)
        groups = ok(http.get("/api/v0/notification-groups"))["notificationGroups"]
        assert [g["monitors"] for g in groups if g["id"] == group["id"]] == [[]]
