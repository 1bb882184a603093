"""Graph definitions and check reports (spec §3, §5)."""

from __future__ import annotations

import time

import httpx
from api_helpers import error, ok, register


def test_graph_defs_create_and_delete_with_json_body(client: httpx.Client) -> None:
    defs = [
        {
            "name": "custom.disk.#",
            "unit": "bytes",
            "metrics": [
                {"name": "custom.disk.#.used", "displayName": "%1 used", "isStacked": True}
            ],
        },
        {"name": "custom.linux.users", "metrics": [{"name": "custom.linux.users.count"}]},
    ]
    assert ok(client.post("/api/v0/graph-defs/create", json=defs)) == {"success": True}
    assert ok(
        client.request("DELETE", "/api/v0/graph-defs", json={"name": "custom.linux.users"})
    ) == {"success": True}
    message = error(
        client.request("DELETE", "/api/v0/graph-defs", json={"name": "custom.linux.users"}), 400
    )
    assert "custom.linux.users" in message
    assert ok(client.request("DELETE", "/api/v0/graph-defs", json={"name": "custom.disk.#"})) == {
        "success": True
    }


def test_graph_defs_rejected_whole(client: httpx.Client) -> None:
    good = {"name": "custom.a", "metrics": [{"name": "custom.a.b"}]}
    cases = [
        ({"name": "loadavg", "metrics": [{"name": "loadavg.x"}]}, "[1].name"),
        ({"name": "custom.a", "metrics": [{"name": "custom.b.c"}]}, "[1].metrics[0].name"),
        ({"name": "custom.a", "unit": "parsecs", "metrics": [{"name": "custom.a.b"}]}, "[1].unit"),
        ({"name": "custom.a", "metrics": []}, "[1].metrics"),
    ]
    for bad, field in cases:
        message = error(client.post("/api/v0/graph-defs/create", json=[good, bad]), 400)
        assert message.startswith(field), message
    # nothing of the rejected batches was stored
    error(client.request("DELETE", "/api/v0/graph-defs", json={"name": "custom.a"}), 400)


def test_graph_defs_are_bounded(client: httpx.Client) -> None:
    """100 metrics per definition, 5,000 definitions per organisation: the dashboard reads
    and matches them all on each view."""
    metrics = [{"name": f"custom.wide.m{index}"} for index in range(101)]
    wide = {"name": "custom.wide", "metrics": metrics}
    message = error(client.post("/api/v0/graph-defs/create", json=[wide]), 400)
    assert message.startswith("[0].metrics: list should have at most 100 items"), message
    ok(client.post("/api/v0/graph-defs/create", json=[{**wide, "metrics": metrics[:100]}]))
    many = [{"name": f"custom.g{index}", "metrics": [{"name": f"custom.g{index}.m"}]}
            for index in range(5000)]  # fmt: skip
    message = error(client.post("/api/v0/graph-defs/create", json=many), 400)
    assert message == (
        "body: an organisation holds at most 5000 graph definitions (1 stored, 5000 new in"
        " this request)"
    )
    ok(client.post("/api/v0/graph-defs/create", json=many[:4999]))
    ok(client.post("/api/v0/graph-defs/create", json=many[:10]))  # replacing costs nothing
    message = error(client.post("/api/v0/graph-defs/create", json=many[4999:]), 400)
    assert "(5000 stored, 1 new in this request)" in message


def test_check_reports_and_check_monitors(client: httpx.Client) -> None:
    host_id = register(client, "a", checks=[{"name": "ssh"}, {"name": "cron", "memo": "c"}])
    now = int(time.time())
    report = {
        "source": {"type": "host", "hostId": host_id},
        "name": "ssh",
        "status": "CRITICAL",
        "message": "refused",
        "occurredAt": now,
        "notificationInterval": 5,
        "maxCheckAttempts": 2,
    }
    assert ok(client.post("/api/v0/monitoring/checks/report", json={"reports": [report]})) == {
        "success": True
    }
    statuses = ok(client.get(f"/api/v0/hosts/{host_id}/monitored-statuses"))["monitoredStatuses"]
    assert [(s["status"], s["detail"]["message"]) for s in statuses] == [("CRITICAL", "refused")]

    checks = ok(client.get("/api/v0/monitoring/checks"))
    assert sorted(c["name"] for c in checks["checks"]) == ["cron", "ssh"] and "nextId" not in checks
    first = ok(client.get("/api/v0/monitoring/checks", params={"limit": 1}))
    second = ok(
        client.get("/api/v0/monitoring/checks", params={"limit": 1, "nextId": first["nextId"]})
    )
    assert {first["checks"][0]["name"], second["checks"][0]["name"]} == {"cron", "ssh"}
    one = checks["checks"][0]
    assert ok(client.get(f"/api/v0/monitoring/checks/{one['id']}")) == {"check": one}
    error(client.get("/api/v0/monitoring/checks/nosuchcheck"), 404)
    error(client.get("/api/v0/monitoring/checks", params={"limit": 101}), 400)


def test_a_bad_check_report_costs_only_itself(client: httpx.Client) -> None:
    host_id = register(client, "a", checks=[{"name": "ssh"}, {"name": "cron"}])
    now = int(time.time())
    good = {
        "source": {"type": "host", "hostId": host_id},
        "name": "ssh",
        "status": "OK",
        "message": "",
        "occurredAt": now,
    }
    cases = [
        ({**good, "status": "BAD"}, "reports[1].status"),
        ({**good, "maxCheckAttempts": 11}, "reports[1].maxCheckAttempts"),
        ({**good, "source": {"type": "host", "hostId": "nosuchhost1"}}, "reports[1].source.hostId"),
    ]
    for bad, field in cases:
        response = client.post("/api/v0/monitoring/checks/report", json={"reports": [good, bad]})
        message = error(response, 400)
        assert message.startswith(f"1 reports refused, 1 stored: {field}: "), message
        assert response.json()["error"]["refused"][0]["index"] == 1
    error(client.post("/api/v0/monitoring/checks/report", json={"reports": [good] * 101}), 400)
    statuses = ok(client.get(f"/api/v0/hosts/{host_id}/monitored-statuses"))["monitoredStatuses"]
    assert [s["status"] for s in statuses] == ["OK"]  # the good report was stored


def test_check_messages_are_cut_to_1024_characters_never_refused(client: httpx.Client) -> None:
    """mackerel-agent and `mkr wrap` cut at 1,024 characters; longer ones are cut, not refused."""
    host_id = register(client, "a", checks=[{"name": "ssh"}, {"name": "cron"}])
    now = int(time.time())
    reports = [
        {
            "source": {"type": "host", "hostId": host_id},
            "name": name,
            "status": "CRITICAL",
            "message": message,
            "occurredAt": now,
        }
        for name, message in (("ssh", "é" * 1024), ("cron", "ö" * 1500))
    ]
    ok(client.post("/api/v0/monitoring/checks/report", json={"reports": reports}))
    statuses = ok(client.get(f"/api/v0/hosts/{host_id}/monitored-statuses"))["monitoredStatuses"]
    assert sorted(s["detail"]["message"] for s in statuses) == ["é" * 1024, "ö" * 1024]
