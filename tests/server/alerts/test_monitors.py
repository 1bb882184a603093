"""Monitor definitions: Mackerel's JSON round-trips, bad fields are named."""

from __future__ import annotations

from typing import Any

import pytest

from sabamon.server.alerts.monitors import Monitor, MonitorError, in_scope, validate_monitor

HOST_MONITOR: dict[str, Any] = {
    "type": "host",
    "name": "disk.aa-00.writes.delta",
    "memo": "This monitor is for Hatena Blog.",
    "duration": 3,
    "metric": "disk.aa-00.writes.delta",
    "operator": ">",
    "warning": 20000.0,
    "critical": 400000.0,
    "maxCheckAttempts": 3,
    "notificationInterval": 60,
    "scopes": ["Hatena-Blog"],
    "excludeScopes": ["Hatena-Bookmark: db-master"],
    "isMute": False,
}


def test_host_monitor_round_trips_mackerel_json() -> None:
    spec = validate_monitor(HOST_MONITOR)
    assert spec == HOST_MONITOR  # "Hatena-Bookmark: db-master" is echoed as sent
    assert "recoveryWarning" not in spec and "holdDownMinutes" not in spec


def test_connectivity_defaults() -> None:
    assert validate_monitor({"type": "connectivity"}) == {
        "type": "connectivity",
        "name": "connectivity",
        "memo": "",
        "isMute": False,
        "alertStatusOnGone": "CRITICAL",
        "scopes": [],
        "excludeScopes": [],
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "nope"}, "type"),
        ({"operator": ">="}, "operator"),
        ({"warning": "high"}, "warning"),
        ({"duration": 11}, "duration"),
        ({"maxCheckAttempts": 0}, "maxCheckAttempts"),
        ({"notificationInterval": 5}, "notificationInterval"),
        ({"metric": None}, "metric"),
        ({"scopes": [1]}, "scopes"),
        ({"memo": "x" * 2049}, "memo"),
        ({"metric": "cpu%", "warning": 50, "critical": 120}, "critical"),
        ({"recoveryWarning": 30000}, "recoveryWarning"),
        ({"flapWindowMinutes": 10}, "flapThreshold"),
    ],
)
def test_invalid_fields_are_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(MonitorError, match=rf"^{field}:"):
        validate_monitor({**HOST_MONITOR, **change})


def test_external_and_service_fields() -> None:
    spec = validate_monitor(
        {
            "type": "external",
            "name": "site",
            "url": "https://127.0.0.1:8443/health",
            "service": "web",
            "responseTimeCritical": 500,
            "responseTimeDuration": 3,
            "headers": [{"name": "Cache-Control", "value": "no-cache"}],
            "certificationExpirationWarning": 30,
        }
    )
    assert spec["method"] == "GET" and spec["maxCheckAttempts"] == 1
    with pytest.raises(MonitorError, match=r"^responseTimeWarning: needs service"):
        validate_monitor(
            {"type": "external", "name": "x", "url": "http://h/", "responseTimeWarning": 1}
        )
    with pytest.raises(MonitorError, match=r"^url:"):
        validate_monitor({"type": "external", "name": "x", "url": "ftp://h/"})
    with pytest.raises(MonitorError, match=r"^missingDurationWarning: must be a multiple"):
        validate_monitor(
            {
                "type": "service",
                "name": "s",
                "service": "web",
                "metric": "m",
                "operator": ">",
                "warning": 1,
                "missingDurationWarning": 15,
            }
        )


def test_put_keeps_headers_and_gone_status_and_refuses_a_type_change() -> None:
    old = Monitor(
        "m1",
        validate_monitor(
            {"type": "connectivity", "alertStatusOnGone": "WARNING", "scopes": ["web"]}
        ),
    )
    new = validate_monitor({"type": "connectivity", "name": "c"}, previous=old)
    assert new["alertStatusOnGone"] == "WARNING" and new["scopes"] == []
    with pytest.raises(MonitorError, match=r"^type: cannot be changed"):
        validate_monitor(HOST_MONITOR, previous=old)


def test_expression_is_parsed_on_validation() -> None:
    body = {
        "type": "expression",
        "name": "e",
        "operator": ">",
        "warning": 1,
        "expression": "avg(roleSlots('web:app', 'loadavg5'))",
    }
    assert validate_monitor(body)["evaluateBackwardMinutes"] == 2
    with pytest.raises(MonitorError, match=r"^expression: expected"):
        validate_monitor({**body, "expression": "avg(roleSlots('web:app', 'loadavg5')"})


def test_scopes_and_exclusions() -> None:
    monitor = Monitor("m", validate_monitor(HOST_MONITOR))
    assert in_scope(monitor, {"Hatena-Blog": ["app"]})
    assert not in_scope(monitor, {"Hatena-Blog": ["app"], "Hatena-Bookmark": ["db-master"]})
    assert not in_scope(monitor, {"other": []})
