"""Input that grows: documents nested or sized past the limits, integers out of range and
names past POST /services' rules are refused with a 400 naming the field, and nothing is
stored that the organisation cannot read back."""

from __future__ import annotations

import time
from typing import Any

import httpx
from api_helpers import error, ok, register
from api_server import RunningApi

from sabamon.server.api.validation import MAX_DOCUMENT_BYTES, MAX_DOCUMENT_DEPTH
from sabamon.server.definitions import MAX_DEFINITIONS


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = [value]
    return {"deep": value}


def test_host_meta_and_interfaces_past_the_limits_are_400(client: httpx.Client) -> None:
    host = {"name": "h", "meta": nested(MAX_DOCUMENT_DEPTH + 1)}
    assert "meta" in error(client.post("/api/v0/hosts", json=host), 400)
    host = {"name": "h", "meta": nested(300)}
    assert "must nest at most 32 levels" in error(client.post("/api/v0/hosts", json=host), 400)
    big = {"name": "h", "meta": {"blob": "x" * MAX_DOCUMENT_BYTES}}
    assert "meta: must be at most" in error(client.post("/api/v0/hosts", json=big), 400)
    interfaces = {"name": "h", "interfaces": [nested(MAX_DOCUMENT_DEPTH)]}
    assert "interfaces" in error(client.post("/api/v0/hosts", json=interfaces), 400)
    for huge in (2**64, -(2**63) - 1, 10**30):
        host = {"name": "h", "meta": {"n": [huge]}}
        assert "meta.n[0]: integers must fit in 64 bits" in error(
            client.post("/api/v0/hosts", json=host), 400
        )
    register(client, "fine", meta={"deep": nested(MAX_DOCUMENT_DEPTH - 1), "n": 2**64 - 1})
    fine = ok(client.get("/api/v0/hosts"))["hosts"]
    assert len(fine) == 1  # the organisation reads back
    update = {"name": "fine", "meta": {"n": 2**70}}
    message = error(client.put(f"/api/v0/hosts/{fine[0]['id']}", json=update), 400)
    assert "meta.n: integers must fit in 64 bits" in message
    ok(client.get("/api/v0/hosts"))


def test_metadata_and_monitors_past_the_limits_are_400(client: httpx.Client) -> None:
    host_id = register(client, "h")
    path = f"/api/v0/hosts/{host_id}/metadata/deep"
    for depth in (MAX_DOCUMENT_DEPTH + 1, 330, 5000):
        message = error(
            client.put(
                path,
                json=nested(depth) if depth < 1000 else None,
                content=None if depth < 1000 else b"[" * depth,
            ),
            400,
        )
        assert message.startswith("body") and "must nest at most 32" in message, message
    monitor = {"type": "expression", "name": "m", "expression": "1", "memo": nested(100)}
    message = error(client.post("/api/v0/monitors", json=monitor), 400)
    assert message.startswith("body.memo.deep[0][0]") and "must nest" in message, message
    ok(client.get(f"/api/v0/hosts/{host_id}/metadata"))


def test_check_report_integers_are_range_checked(client: httpx.Client) -> None:
    host_id = register(client, "h")
    report = {
        "source": {"type": "host", "hostId": host_id},
        "name": "c",
        "status": "OK",
        "message": "",
        "occurredAt": int(time.time()),
        "notificationInterval": 9223372036854775808,
    }
    message = error(
        client.post("/api/v0/monitoring/checks/report", json={"reports": [report]}), 400
    )
    assert "notificationInterval" in message


def test_role_fullnames_follow_the_service_name_rules(client: httpx.Client) -> None:
    long_name = {"name": "h", "roleFullnames": ["S" * 1_000_000 + ":rr"]}
    assert "roleFullnames[0]" in error(client.post("/api/v0/hosts", json=long_name), 400)
    many = {"name": "h", "roleFullnames": [f"svc:r{index}" for index in range(20_000)]}
    assert "at most 100 roles" in error(client.post("/api/v0/hosts", json=many), 400)
    assert ok(client.get("/api/v0/services"))["services"] == []


def test_a_host_declares_at_most_1000_check_monitors(client: httpx.Client) -> None:
    checks = [{"name": f"check-{index}"} for index in range(1001)]
    message = error(client.post("/api/v0/hosts", json={"name": "h", "checks": checks}), 400)
    assert message.startswith("checks: list should have at most 1000 items"), message
    ok(client.post("/api/v0/hosts", json={"name": "h", "checks": checks[:1000]}))
    assert len(ok(client.get("/api/v0/monitoring/checks", params={"limit": 100}))["checks"]) == 100


def test_good_hosts_post_alongside(api: RunningApi) -> None:
    with api.client() as http:
        register(http, "ok", meta={"cloud": {"provider": "ec2", "tags": ["a", "b"]}},
                 roleFullnames=["web:app"])  # fmt: skip
        assert ok(http.get("/api/v0/services"))["services"][0]["name"] == "web"


def test_lone_surrogates_in_host_documents_are_replaced_not_a_500(client: httpx.Client) -> None:
    body = '{"name": "s", "meta": {"\\ud800": "a\\ud800"}, "interfaces": [{"name": "\\ud800"}]}'
    answer = client.post(
        "/api/v0/hosts", content=body, headers={"Content-Type": "application/json"}
    )
    host_id = ok(answer)["id"]
    host = ok(client.get(f"/api/v0/hosts/{host_id}"))["host"]
    assert host["meta"] == {"\ufffd": "a\ufffd"}
    assert host["interfaces"][0]["name"] == "\ufffd"


NOT_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]
"""Number literals the stdlib parser reads as floats no document can store (orjson would
write them back as null)."""


JSON = {"Content-Type": "application/json"}


def post_raw(client: httpx.Client, method: str, path: str, body: str) -> httpx.Response:
    return client.request(method, path, content=body.encode(), headers=JSON)


def test_non_finite_numbers_in_host_documents_are_400_naming_the_place(
    client: httpx.Client,
) -> None:
    host_id = register(client, "h", meta={"cloud": {"tags": ["a"]}})
    for literal in NOT_FINITE:
        meta = '{"name": "h", "meta": {"cloud": {"tags": ["a", @]}}}'.replace("@", literal)
        interfaces = '{"name": "h", "interfaces": [{"speed": @}]}'.replace("@", literal)
        for method, path in (("POST", "/api/v0/hosts"), ("PUT", f"/api/v0/hosts/{host_id}")):
            message = error(post_raw(client, method, path, meta), 400)
            assert message.startswith("meta.cloud.tags[1]: must be a finite number"), message
            message = error(post_raw(client, method, path, interfaces), 400)
            assert message.startswith("interfaces[0].speed: must be a finite number"), message
    hosts = ok(client.get("/api/v0/hosts"))["hosts"]
    assert [host["meta"] for host in hosts] == [{"cloud": {"tags": ["a"]}}]


def test_non_finite_and_huge_numbers_in_metadata_are_400(client: httpx.Client) -> None:
    host_id = register(client, "h")
    path = f"/api/v0/hosts/{host_id}/metadata/ns"
    for literal in NOT_FINITE:
        body = '{"a": {"b c": [1, @]}}'.replace("@", literal)
        message = error(post_raw(client, "PUT", path, body), 400)
        assert message.startswith('body.a["b c"][1]: must be a finite number'), message
        message = error(post_raw(client, "PUT", path, literal), 400)
        assert message.startswith("body: must be a finite number"), message
    for huge in (2**64, -(2**63) - 1, 10**400):
        message = error(post_raw(client, "PUT", path, str(huge)), 400)
        assert message.startswith("body: integers must fit in 64 bits"), message
        message = error(post_raw(client, "PUT", path, f'{{"n": {huge}}}'), 400)
        assert message.startswith("body.n: integers must fit in 64 bits"), message
    assert error(client.get(path), 404)
    ok(client.put(path, json=2**64 - 1))
    assert ok(client.get(path)) == 2**64 - 1


def test_non_finite_numbers_in_alerting_documents_are_400_naming_the_field(
    client: httpx.Client,
) -> None:
    bodies = {  # path → (body with the number at @, the field named)
        "/api/v0/monitors": (
            '{"type": "host", "name": "m", "metric": "loadavg5", "warning": @, "critical": 2}',
            "body.warning",
        ),
        "/api/v0/channels": (
            '{"type": "webhook", "name": "c", "url": "http://127.0.0.1:9/", "x": [@]}',
            "body.x[0]",
        ),
        "/api/v0/downtimes": ('{"name": "d", "start": @, "duration": 60}', "body.start"),
        "/api/v0/alerts/nothing/close": ('{"reason": @}', "body.reason"),
    }
    for literal in NOT_FINITE:
        for path, (body, field) in bodies.items():
            message = error(post_raw(client, "POST", path, body.replace("@", literal)), 400)
            assert message.startswith(f"{field}: must be a finite number"), message
    assert ok(client.get("/api/v0/monitors"))["monitors"] == []
    assert ok(client.get("/api/v0/channels"))["channels"] == []


def test_model_bodies_too_deep_or_not_utf8_are_read_as_on_every_route(
    client: httpx.Client,
) -> None:
    """Hosts, services, graph definitions and check reports (bodies read for a model) answer
    a body nested past the parser's reach with a 400 naming the fault, and read invalid
    UTF-8 as U+FFFD like every other body, not FastAPI's "error parsing the body"."""
    deep = b'{"name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for path in ("/api/v0/hosts", "/api/v0/services", "/api/v0/graph-defs/create",
                 "/api/v0/monitoring/checks/report"):  # fmt: skip
        message = error(post_raw(client, "POST", path, deep.decode()), 400)
        assert message == "body: must nest at most 32 levels deep", (path, message)
    answer = client.post("/api/v0/hosts", content=b'{"name": "caf\xe9"}', headers=JSON)
    host = ok(client.get(f"/api/v0/hosts/{ok(answer)['id']}"))["host"]
    assert host["name"] == "caf\ufffd"
    message = error(client.post("/api/v0/services", content=b'{"name": ', headers=JSON), 400)
    assert message.startswith("body: malformed JSON ("), message


def test_definitions_past_their_count_or_naming_unknown_ids_are_400(client: httpx.Client) -> None:
    """An organisation holds at most 100 channels (monitors, downtimes and groups are bounded
    the same way, `definitions.MAX_DEFINITIONS`), and a group names only existing ids."""
    hook = {"type": "webhook", "name": "c", "url": "http://127.0.0.1:9/"}
    ids = [
        ok(client.post("/api/v0/channels", json=hook))["id"]
        for _ in range(MAX_DEFINITIONS["channel"])
    ]
    message = error(client.post("/api/v0/channels", json=hook), 400)
    assert message.startswith("notification channels: an organisation holds at most 100"), message
    assert len(ok(client.get("/api/v0/channels"))["channels"]) == 100
    group = {"name": "team", "childChannelIds": [ids[0], "nope"]}
    message = error(client.post("/api/v0/notification-groups", json=group), 400)
    assert message == "childChannelIds[1]: no notification channel 'nope' in this organisation"
    group = {"name": "team", "monitors": [{"id": "gone", "skipDefault": True}]}
    message = error(client.post("/api/v0/notification-groups", json=group), 400)
    assert message == "monitors[0].id: no monitor 'gone' in this organisation"
    groups = ok(client.get("/api/v0/notification-groups"))["notificationGroups"]
    assert [group["type"] for group in groups] == ["group-default"]


def test_alert_group_settings_past_their_count_are_400(client: httpx.Client) -> None:
    """Alert group settings are bounded like the other definitions: the 101st is refused
    and nothing past the bound is stored."""
    setting = {"name": "web", "serviceScopes": ["web"]}
    for _ in range(MAX_DEFINITIONS["alert_group_setting"]):
        ok(client.post("/api/v0/alert-group-settings", json=setting))
    message = error(client.post("/api/v0/alert-group-settings", json=setting), 400)
    assert message.startswith("alert group settings: an organisation holds at most 100"), message
    assert len(ok(client.get("/api/v0/alert-group-settings"))["alertGroupSettings"]) == 100
