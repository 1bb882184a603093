"""Bodies as the Mackerel clients send them, and what they read back.

One table per kind:
- NULLABLE: fields that mackerel-client-go encodes as `null` (an unset slice, map or pointer
  without `omitempty`): `CreateHostParam`/`UpdateHostParam` interfaces, roleFullnames and
  checks, monitors' warning/critical, external monitors' headers, notification groups'
  child ids; the bodies come from mackerel-client-go's own tests.
- ECHOED: values a client pushes and compares with what it pulls (`mkr monitors diff`):
  returned exactly as sent, matched with the spaces ignored.
- VALID_SHAPES: monitor shapes from mackerel-client-go's fixtures that Mackerel keeps.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from api_helpers import ok, register
from api_server import RunningApi

CLIENT_GO_HOST = {"name": "web-1", "meta": {}, "interfaces": None, "roleFullnames": None,
                  "checks": None}  # fmt: skip

# (name, method, path, body) — `{host}` is a registered host's id; every answer is 200.
NULLABLE: list[tuple[str, str, str, Any]] = [
    ("mkr create", "POST", "/api/v0/hosts", CLIENT_GO_HOST),
    ("mkr update --displayName", "PUT", "/api/v0/hosts/{host}",
     {**CLIENT_GO_HOST, "displayName": "Web 1"}),
    ("null memo and meta", "PUT", "/api/v0/hosts/{host}",
     {"name": "web-1", "memo": None, "meta": None}),
    ("check without memo", "PUT", "/api/v0/hosts/{host}",
     {"name": "web-1", "meta": {}, "checks": [{"name": "ssh", "memo": None}]}),
    ("role fullnames null", "PUT", "/api/v0/hosts/{host}/role-fullnames",
     {"roleFullnames": None}),
    ("host monitor without critical", "POST", "/api/v0/monitors",
     {"type": "host", "name": "Foo Bar", "duration": 3, "metric": "custom.foo.bar",
      "operator": ">", "warning": 200.0, "critical": None, "maxCheckAttempts": 5}),
    ("host monitor without warning", "POST", "/api/v0/monitors",
     {"type": "host", "name": "Foo Baz", "duration": 7, "metric": "custom.foo.baz",
      "operator": "<", "warning": None, "critical": 300.0, "maxCheckAttempts": 2}),
    ("external monitor with null headers", "POST", "/api/v0/monitors",
     {"type": "external", "name": "example.com", "method": "GET",
      "url": "https://example.com", "headers": None}),
    ("notification group with null children", "POST", "/api/v0/notification-groups",
     {"name": "ops", "notificationLevel": "all", "childNotificationGroupIds": None,
      "childChannelIds": None}),
    ("email channel with null lists", "POST", "/api/v0/channels",
     {"name": "mail", "type": "email", "emails": None, "userIds": None, "events": None}),
    ("service with null memo", "POST", "/api/v0/services", {"name": "shop2", "memo": None}),
    ("role with null memo", "POST", "/api/v0/services/shop/roles",
     {"name": "api", "memo": None}),
    ("check report with null message", "POST", "/api/v0/monitoring/checks/report",
     {"reports": [{"source": {"type": "host", "hostId": "{host}"}, "name": "ssh",
                   "status": "OK", "message": None, "occurredAt": 1_700_000_000}]}),
    ("graph definition with null unit and isStacked", "POST", "/api/v0/graph-defs/create",
     [{"name": "custom.x", "displayName": None, "unit": None,
       "metrics": [{"name": "custom.x.a", "displayName": None, "isStacked": None}]}]),
    ("downtime with null memo", "POST", "/api/v0/downtimes",
     {"name": "deploy", "memo": None, "start": 1_700_000_000, "duration": 30}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "method", "path", "body"), NULLABLE, ids=[c[0] for c in NULLABLE])
def test_null_reads_as_empty(
    client: httpx.Client, name: str, method: str, path: str, body: Any
) -> None:
    host_id = register(client, "web-1", roleFullnames=["shop:web"], checks=[{"name": "ssh"}])
    filled = json.loads(json.dumps(body).replace("{host}", host_id))
    response = client.request(method, path.format(host=host_id), json=filled)
    assert response.status_code == 200, (name, response.text)


def test_client_go_host_create_and_update_keep_what_null_leaves_alone(
    client: httpx.Client,
) -> None:
    host_id = ok(client.post("/api/v0/hosts", json=CLIENT_GO_HOST))["id"]
    host = ok(client.get(f"/api/v0/hosts/{host_id}"))["host"]
    assert host["interfaces"] == [] and host["roles"] == {}
    ok(client.put(f"/api/v0/hosts/{host_id}/role-fullnames", json={"roleFullnames": ["shop:web"]}))
    ok(client.put(f"/api/v0/hosts/{host_id}", json={**CLIENT_GO_HOST, "displayName": "W"}))
    host = ok(client.get(f"/api/v0/hosts/{host_id}"))["host"]
    assert host["displayName"] == "W" and host["roles"] == {"shop": ["web"]}


def test_external_monitor_put_with_null_headers_keeps_them(client: httpx.Client) -> None:
    """mackerel-client-go: "Empty list of headers and nil are different"."""
    headers = [{"name": "Cache-Control", "value": "no-cache"}]
    body = {"type": "external", "name": "e", "url": "https://example.com", "headers": headers}
    monitor_id = ok(client.post("/api/v0/monitors", json=body))["id"]
    kept = ok(client.put(f"/api/v0/monitors/{monitor_id}", json={**body, "headers": None}))
    assert kept["headers"] == headers
    emptied = ok(client.put(f"/api/v0/monitors/{monitor_id}", json={**body, "headers": []}))
    assert emptied["headers"] == []


# (path, body, field): `field` comes back exactly as it was sent.
ECHOED: list[tuple[str, dict[str, Any], str]] = [
    ("/api/v0/monitors", {"type": "host", "name": "disk", "metric": "loadavg5", "operator": ">",
                          "warning": 1, "scopes": ["Hatena-Bookmark: db-master"]}, "scopes"),
    ("/api/v0/monitors", {"type": "host", "name": "disk", "metric": "loadavg5", "operator": ">",
                          "warning": 1, "excludeScopes": ["Hatena-Blog: app"]}, "excludeScopes"),
    ("/api/v0/monitors", {"type": "connectivity", "scopes": ["Hatena-Bookmark: db-master"]},
     "scopes"),
    ("/api/v0/downtimes", {"name": "d", "start": 1_700_000_000, "duration": 30,
                           "roleScopes": ["Hatena-Bookmark: db-master"]}, "roleScopes"),
    ("/api/v0/downtimes", {"name": "d", "start": 1_700_000_000, "duration": 30,
                           "roleExcludeScopes": ["Hatena-Blog: app"]}, "roleExcludeScopes"),
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "field"), ECHOED, ids=[c[2] for c in ECHOED])
def test_echoed_fields_come_back_as_sent(
    client: httpx.Client, path: str, body: dict[str, Any], field: str
) -> None:
    created = ok(client.post(path, json=body))
    assert created[field] == body[field]
    listed = ok(client.get(path))
    kind = path.rsplit("/", 1)[1]
    assert [d[field] for d in listed[kind] if d["id"] == created["id"]] == [body[field]]


# mackerel-client-go's fixtures of monitors Mackerel answers with.
VALID_SHAPES: list[tuple[str, dict[str, Any]]] = [
    ("service monitor with missing duration thresholds",
     {"type": "service", "name": "Hatena-Blog - access_num.5xx_count", "service": "Hatena-Blog",
      "duration": 3, "metric": "access_num.5xx_count", "operator": ">", "critical": None,
      "warning": None, "maxCheckAttempts": 3, "missingDurationWarning": 360,
      "missingDurationCritical": 720, "notificationInterval": 60}),
    ("service monitor with only missingDurationCritical, no operator",
     {"type": "service", "name": "gone", "service": "Hatena-Blog", "metric": "m",
      "missingDurationCritical": 720}),
    ("expression monitor without thresholds",
     {"type": "expression", "name": "role average",
      "expression": 'avg(roleSlots("server:role","loadavg5"))', "operator": ">",
      "warning": None, "critical": None, "notificationInterval": 60}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "body"), VALID_SHAPES, ids=[c[0] for c in VALID_SHAPES])
def test_monitor_shapes_mackerel_keeps_are_accepted(
    client: httpx.Client, name: str, body: dict[str, Any]
) -> None:
    created = ok(client.post("/api/v0/monitors", json=body))
    for key, value in body.items():
        assert created[key] == value, (name, key)


def test_service_monitor_needs_some_level(client: httpx.Client) -> None:
    body = {"type": "service", "name": "s", "service": "web", "metric": "m", "operator": ">"}
    response = client.post("/api/v0/monitors", json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "warning: warning or critical must be set"


def test_org_answers_its_name(api: RunningApi) -> None:
    with api.client("read") as reader:
        assert ok(reader.get("/api/v0/org")) == {"name": "default"}
    with httpx.Client(base_url=api.url) as anonymous:
        assert anonymous.get("/api/v0/org").status_code == 401


def test_check_report_with_zero_max_check_attempts_is_the_default(client: httpx.Client) -> None:
    host_id = register(client, "web-1")
    report = {"source": {"type": "host", "hostId": host_id}, "name": "ssh", "status": "OK",
              "message": "", "occurredAt": 1_700_000_000, "maxCheckAttempts": 0}  # fmt: skip
    assert ok(client.post("/api/v0/monitoring/checks/report", json={"reports": [report]}))


def test_alert_group_settings_crud_in_mackerel_shape(client: httpx.Client) -> None:
    """The bodies of mackerel-client-go's alert_group_settings_test.go."""
    first = ok(client.post("/api/v0/alert-group-settings", json={"name": "alert group setting #1"}))
    assert first == {"id": first["id"], "name": "alert group setting #1"}
    body = {"name": "alert group setting #2", "memo": "lorem ipsum...",
            "serviceScopes": ["my-service"], "roleScopes": ["my-service: db"],
            "monitorScopes": ["connectivity"], "notificationInterval": 60}  # fmt: skip
    second = ok(client.post("/api/v0/alert-group-settings", json=body))
    assert second == {"id": second["id"], **body}
    listed = ok(client.get("/api/v0/alert-group-settings"))["alertGroupSettings"]
    assert sorted(listed, key=str) == sorted([first, second], key=str)
    assert ok(client.get(f"/api/v0/alert-group-settings/{second['id']}")) == second
    changed = {**body, "memo": None, "roleScopes": None, "name": "renamed"}
    updated = ok(client.put(f"/api/v0/alert-group-settings/{second['id']}", json=changed))
    assert updated == {"id": second["id"], "name": "renamed", "serviceScopes": ["my-service"],
                       "monitorScopes": ["connectivity"], "notificationInterval": 60}  # fmt: skip
    assert ok(client.delete(f"/api/v0/alert-group-settings/{first['id']}")) == first
    missing = client.get(f"/api/v0/alert-group-settings/{first['id']}")
    assert missing.status_code == 404 and set(missing.json()) == {"error"}
    bad = client.post("/api/v0/alert-group-settings", json={"name": "x", "roleScopes": "a:b"})
    assert bad.status_code == 400
    assert bad.json()["error"]["message"].startswith("roleScopes:")
