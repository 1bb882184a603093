"""Hosts routes, as the agent and the Mackerel clients call them."""

from __future__ import annotations

import time

import httpx
from api_helpers import error, ok, register
from api_server import RunningApi


def test_register_get_update_keeps_roles_and_clears_custom_identifier(client: httpx.Client) -> None:
    host_id = register(
        client,
        "web-1",
        displayName="Web 1",
        customIdentifier="i-123",
        roleFullnames=["shop: web", "shop:db"],
        interfaces=[{"name": "eth0", "ipv4Addresses": ["10.0.0.1"]}],
        checks=[{"name": "ssh", "memo": "port 22"}],
    )
    host = ok(client.get(f"/api/v0/hosts/{host_id}"))["host"]
    assert host["id"] == host_id and host["name"] == "web-1" and host["displayName"] == "Web 1"
    assert host["roles"] == {"shop": ["db", "web"]} and host["status"] == "working"
    assert host["isRetired"] is False and isinstance(host["createdAt"], int)
    assert host["interfaces"] == [{"name": "eth0", "ipv4Addresses": ["10.0.0.1"]}]
    services = ok(client.get("/api/v0/services"))["services"]
    assert {"name": "shop", "memo": "", "roles": ["db", "web"]} in services

    body = {
        "name": "web-1b",
        "meta": {"kernel": {}},
        "roleFullnames": ["shop:cache"],
        "customIdentifier": "",
    }
    assert ok(client.put(f"/api/v0/hosts/{host_id}", json=body)) == {"id": host_id}
    host = ok(client.get(f"/api/v0/hosts/{host_id}"))["host"]
    assert host["name"] == "web-1b" and host["customIdentifier"] is None
    assert host["roles"] == {"shop": ["cache", "db", "web"]}
    assert host["meta"] == {"kernel": {}}


def test_list_filters_repeated_parameters_and_json_alias(client: httpx.Client) -> None:
    web = register(client, "web", roleFullnames=["shop:web"], customIdentifier="ci-web")
    db = register(client, "db", roleFullnames=["shop:db"])
    other = register(client, "other", roleFullnames=["blog:web"])
    ok(client.post(f"/api/v0/hosts/{db}/status", json={"status": "maintenance"}))

    def ids(**params: object) -> list[str]:
        return [h["id"] for h in ok(client.get("/api/v0/hosts", params=params))["hosts"]]

    assert ids() == [web, other]  # maintenance is not listed by default
    assert ids(status=["working", "maintenance"]) == [web, db, other]
    assert ids(service="shop", role=["web", "db"], status=["working", "maintenance"]) == [web, db]
    assert ids(role="web") == [web, other]  # role without service is ignored
    assert ids(name="other") == [other]
    assert ids(customIdentifier="ci-web") == [web]
    hosts_json = ok(client.get("/api/v0/hosts.json"))["hosts"]
    assert [h["id"] for h in hosts_json] == [web, other]


def test_find_by_custom_identifier(client: httpx.Client) -> None:
    host_id = register(client, "a", customIdentifier="Box/ü 1")
    url = "/api/v0/hosts-by-custom-identifier/Box%2F%C3%BC%201"
    assert ok(client.get(url))["host"]["id"] == host_id
    error(client.get("/api/v0/hosts-by-custom-identifier/box%2F%C3%BC%201"), 404)
    found = ok(
        client.get("/api/v0/hosts-by-custom-identifier/box%2F%C3%BC%201?caseInsensitive=true")
    )
    assert found["host"]["id"] == host_id


def test_status_bulk_status_role_fullnames(client: httpx.Client) -> None:
    a, b = register(client, "a"), register(client, "b")
    assert ok(client.post(f"/api/v0/hosts/{a}/status", json={"status": "standby"})) == {
        "success": True
    }
    body = {"ids": [a, b], "status": "poweroff"}
    assert ok(client.post("/api/v0/hosts/bulk-update-statuses", json=body))["success"] is True
    assert ok(client.get(f"/api/v0/hosts/{b}"))["host"]["status"] == "poweroff"
    # one unknown id: 404 and nothing changed
    body = {"ids": [a, "nosuchhost1"], "status": "working"}
    error(client.post("/api/v0/hosts/bulk-update-statuses", json=body), 404)
    assert ok(client.get(f"/api/v0/hosts/{a}"))["host"]["status"] == "poweroff"
    assert "status" in error(client.post(f"/api/v0/hosts/{a}/status", json={"status": "on"}), 400)
    error(
        client.post(
            "/api/v0/hosts/bulk-update-statuses", json={"ids": [a] * 31, "status": "working"}
        ),
        400,
    )

    body = {"roleFullnames": ["svc:xx", "svc: yy"]}
    ok(client.put(f"/api/v0/hosts/{a}/role-fullnames", json=body))
    assert ok(client.get(f"/api/v0/hosts/{a}"))["host"]["roles"] == {"svc": ["xx", "yy"]}
    message = error(
        client.put(
            f"/api/v0/hosts/{a}/role-fullnames", json={"roleFullnames": ["svc:ok", "no-colon"]}
        ),
        400,
    )
    assert "roleFullnames[1]" in message
    assert ok(client.get(f"/api/v0/hosts/{a}"))["host"]["roles"] == {"svc": ["xx", "yy"]}


def test_retire_with_empty_body_and_bulk_retire(api: RunningApi, client: httpx.Client) -> None:
    a, b, c = register(client, "a"), register(client, "b"), register(client, "c")
    # A Python client posts no body at all.
    response = httpx.post(
        f"{api.url}/api/v0/hosts/{a}/retire", headers={"X-Api-Key": api.write_key}
    )
    assert ok(response) == {"success": True}
    host = ok(client.get(f"/api/v0/hosts/{a}"))["host"]
    assert host["isRetired"] is True and isinstance(host["retiredAt"], int)
    assert ok(client.post(f"/api/v0/hosts/{b}/retire", json={})) == {"success": True}
    error(client.post("/api/v0/hosts/bulk-retire", json={"ids": [c, "unknownhost"]}), 404)
    assert not ok(client.get(f"/api/v0/hosts/{c}"))["host"]["isRetired"]
    ok(client.post("/api/v0/hosts/bulk-retire", json={"ids": [c]}))
    assert ok(client.get("/api/v0/hosts"))["hosts"] == []


def test_host_body_errors_name_the_field(client: httpx.Client) -> None:
    assert "name" in error(client.post("/api/v0/hosts", json={"meta": {}}), 400)
    assert "meta" in error(client.post("/api/v0/hosts", json={"name": "x", "meta": []}), 400)
    message = error(
        client.post("/api/v0/hosts", json={"name": "x", "checks": [{"name": "a b"}]}), 400
    )
    assert "checks[0].name" in message
    error(
        client.post(
            "/api/v0/hosts", content=b'{"name": "x"', headers={"Content-Type": "application/json"}
        ),
        400,
    )
    error(client.get("/api/v0/hosts/nosuchhost1"), 404)
    error(client.put("/api/v0/hosts/nosuchhost1", json={"name": "x"}), 404)
    assert ok(client.get("/api/v0/hosts"))["hosts"] == []


def test_sql_metacharacters_are_plain_data(client: httpx.Client) -> None:
    name = "x'); DROP TABLE hosts; --"
    host_id = register(client, name, customIdentifier="' OR '1'='1")
    assert ok(client.get(f"/api/v0/hosts/{host_id}"))["host"]["name"] == name
    assert ok(client.get("/api/v0/hosts", params={"name": "' OR 1=1 --"}))["hosts"] == []
    error(client.get("/api/v0/hosts/' OR '1'='1"), 404)
    assert len(ok(client.get("/api/v0/hosts"))["hosts"]) == 1


def test_unstorable_characters_are_replaced_alike_on_both_backends(client: httpx.Client) -> None:
    """NUL and lone surrogates (PostgreSQL keeps neither) become U+FFFD on every route."""
    host_id = register(
        client, "a\x00b", meta={"cmdline": "nginx\x00-g\x00daemon"}, checks=[{"name": "proc"}]
    )
    host = ok(client.get(f"/api/v0/hosts/{host_id}"))["host"]
    assert host["name"] == "a\ufffdb" and host["meta"]["cmdline"] == "nginx\ufffd-g\ufffddaemon"
    ok(client.put(f"/api/v0/hosts/{host_id}/metadata/ns", json=["\x00", {"k\x00": 1}]))
    assert ok(client.get(f"/api/v0/hosts/{host_id}/metadata/ns")) == ["\ufffd", {"k\ufffd": 1}]
    surrogate = b'{"lone": "x\\ud800y", "bytes": "\xff"}'
    ok(client.put(f"/api/v0/hosts/{host_id}/metadata/raw", content=surrogate))
    raw = ok(client.get(f"/api/v0/hosts/{host_id}/metadata/raw"))
    assert raw == {"lone": "x\ufffdy", "bytes": "\ufffd"}
    assert "NUL" in error(client.get("/api/v0/hosts/a%00b"), 400)  # a path is not stored text
    report = {
        "source": {"type": "host", "hostId": host_id},
        "name": "proc",
        "status": "CRITICAL",
        "message": "cmdline: nginx\x00-g\x00daemon off;",
        "occurredAt": int(time.time()),
    }
    ok(client.post("/api/v0/monitoring/checks/report", json={"reports": [report]}))
    statuses = ok(client.get(f"/api/v0/hosts/{host_id}/monitored-statuses"))["monitoredStatuses"]
    assert statuses[0]["detail"]["message"] == "cmdline: nginx\ufffd-g\ufffddaemon off;"
