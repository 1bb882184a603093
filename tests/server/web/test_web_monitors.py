"""Monitor forms on a real server: what a form creates is what the API serves, and an
invalid value comes back with the API's message beside the field it names."""

from __future__ import annotations

import re
from typing import Any

import httpx
from dashboard_server import XSS_NAME, Dashboard, login_csrf


def csrf(client: httpx.Client, path: str) -> str:
    return login_csrf(client.get(path).text)


def api_monitors(dashboard: Dashboard) -> dict[str, dict[str, Any]]:
    with dashboard.api() as api:
        return {m["name"]: m for m in api.get("/api/v0/monitors").json()["monitors"]}


def field_error(html: str, field: str) -> str:
    match = re.search(
        rf'data-field="{field}">.*?<p class="error field-error" role="alert">([^<]*)</p>',
        html,
        re.S,
    )
    assert match, f"no error beside {field}"
    return match[1]


def test_host_monitor_form_creates_what_the_api_serves(dashboard: Dashboard) -> None:
    with dashboard.signed_in() as client:
        form = {
            "csrf": csrf(client, "/ui/monitors/new/host"),
            "name": "load high",
            "metric": "loadavg5",
            "operator": ">",
            "warning": "2",
            "critical": "4.5",
            "duration": "3",
            "maxCheckAttempts": "2",
            "scopes": "shop, shop:web",
            "notificationInterval": "",
            "memo": "",
        }
        response = client.post("/ui/monitors/new/host", data=form)
        assert response.status_code == 303, response.text
        listing = client.get("/ui/monitors").text
    monitor = api_monitors(dashboard)["load high"]
    assert monitor["type"] == "host" and monitor["metric"] == "loadavg5"
    assert (monitor["warning"], monitor["critical"]) == (2, 4.5)
    assert (monitor["duration"], monitor["maxCheckAttempts"]) == (3, 2)
    assert monitor["scopes"] == ["shop", "shop:web"] and monitor["isMute"] is False
    assert f'data-monitor="{monitor["id"]}"' in listing
    assert "warn &gt; 2, crit &gt; 4.5" in listing


def test_an_invalid_value_is_named_beside_its_field_and_nothing_is_saved(
    dashboard: Dashboard,
) -> None:
    with dashboard.signed_in() as client:
        token = csrf(client, "/ui/monitors/new/host")
        base = {"csrf": token, "name": "bad", "metric": "cpu%", "operator": ">"}
        response = client.post("/ui/monitors/new/host", data={**base, "warning": "lots"})
        assert response.status_code == 400
        assert field_error(response.text, "warning") == "warning: must be a number or null"
        assert 'value="lots"' in response.text  # the typed value is kept
        response = client.post("/ui/monitors/new/host", data={**base, "critical": "150"})
        assert field_error(response.text, "critical") == "critical: must be from 0 to 100 for cpu%"
        response = client.post(
            "/ui/monitors/new/external", data={"csrf": token, "name": "x", "url": "ftp://a"}
        )
        assert field_error(response.text, "url") == "url: must be an http or https URL"
        with dashboard.api() as api:
            api_answer = api.post(
                "/api/v0/monitors", json={"type": "external", "name": "x", "url": "ftp://a"}
            )
        assert api_answer.status_code == 400
        assert api_answer.json()["error"]["message"] == "url: must be an http or https URL"
    assert "bad" not in api_monitors(dashboard) and "x" not in api_monitors(dashboard)


def test_every_type_has_a_form_that_creates_it(dashboard: Dashboard) -> None:
    forms = {
        "connectivity": {"name": "conn", "alertStatusOnGone": "WARNING"},
        "service": {"name": "orders", "service": "shop", "metric": "orders.count",
                    "operator": "<", "critical": "1", "missingDurationWarning": "20"},
        "external": {"name": "site", "url": "http://127.0.0.1:9/health", "method": "GET",
                     "expectedStatusCode": "200", "followRedirect": "on", "timeoutSeconds": "5"},
        "expression": {"name": "web load", "operator": ">", "warning": "3",
                       "expression": 'avg(roleSlots("shop:web", "loadavg5"))'},
    }  # fmt: skip
    with dashboard.signed_in() as client:
        token = csrf(client, "/ui/monitors")
        for kind, form in forms.items():
            response = client.post(f"/ui/monitors/new/{kind}", data={"csrf": token, **form})
            assert response.status_code == 303, (kind, response.text[-500:])
    monitors = api_monitors(dashboard)
    assert monitors["conn"]["alertStatusOnGone"] == "WARNING"
    assert monitors["orders"]["missingDurationWarning"] == 20
    assert monitors["site"]["followRedirect"] is True and monitors["site"]["timeoutSeconds"] == 5
    assert monitors["web load"]["expression"] == 'avg(roleSlots("shop:web", "loadavg5"))'


def test_edit_keeps_fields_the_form_does_not_show(dashboard: Dashboard) -> None:
    with dashboard.api() as api:
        created = api.post(
            "/api/v0/monitors",
            json={"type": "external", "name": "with headers", "url": "http://127.0.0.1:9/",
                  "headers": [{"name": "X-Probe", "value": "1"}], "flapWindowMinutes": 10,
                  "flapThreshold": 3},
        ).json()  # fmt: skip
    with dashboard.signed_in() as client:
        page = client.get(f"/ui/monitors/{created['id']}")
        assert 'value="with headers"' in page.text
        form = {"csrf": login_csrf(page.text), "name": "renamed", "url": "http://127.0.0.1:9/x",
                "method": "POST", "isMute": "on"}  # fmt: skip
        response = client.post(f"/ui/monitors/{created['id']}", data=form)
        assert response.status_code == 303, response.text
    monitor = api_monitors(dashboard)["renamed"]
    assert monitor["id"] == created["id"] and monitor["method"] == "POST"
    assert monitor["isMute"] is True
    assert monitor["headers"] == [{"name": "X-Probe", "value": "1"}]
    assert (monitor["flapWindowMinutes"], monitor["flapThreshold"]) == (10, 3)


def test_json_editor_creates_replaces_and_names_bad_input(dashboard: Dashboard) -> None:
    pasted = '{"type": "host", "name": "pasted", "metric": "memory%", "operator": ">",\n' \
             ' "warning": 80, "holdDownMinutes": 5}'  # fmt: skip
    with dashboard.signed_in() as client:
        token = csrf(client, "/ui/monitors/json")
        assert client.post("/ui/monitors/json", data={"csrf": token, "json": pasted}).is_redirect
        monitor = api_monitors(dashboard)["pasted"]
        assert monitor["holdDownMinutes"] == 5
        editor = client.get(f"/ui/monitors/json?id={monitor['id']}").text
        assert "&#34;holdDownMinutes&#34;: 5" in editor
        broken = client.post("/ui/monitors/json", data={"csrf": token, "json": '{"type": '})
        assert broken.status_code == 400 and "json: malformed JSON" in broken.text
        invalid = client.post(
            "/ui/monitors/json",
            data={"csrf": token, "json": f'{{"id": "{monitor["id"]}", "type": "host", '
                  '"name": "pasted", "metric": "memory%", "operator": "=="}'},
        )  # fmt: skip
        assert invalid.status_code == 400 and "operator: must be &#39;&gt;&#39; or" in invalid.text
        replaced = pasted.replace("80", "90").replace("{", f'{{"id": "{monitor["id"]}", ', 1)
        assert client.post("/ui/monitors/json", data={"csrf": token, "json": replaced}).is_redirect
    after = api_monitors(dashboard)["pasted"]
    assert after["id"] == monitor["id"] and after["warning"] == 90


def test_delete_asks_first_then_removes(dashboard: Dashboard) -> None:
    with dashboard.api() as api:
        created = api.post(
            "/api/v0/monitors", json={"type": "connectivity", "name": "doomed"}
        ).json()
    with dashboard.signed_in() as client:
        confirm = client.get(f"/ui/monitors/{created['id']}/delete")
        assert "Delete monitor <q>doomed</q>?" in confirm.text
        assert "doomed" in api_monitors(dashboard)
        response = client.post(
            f"/ui/monitors/{created['id']}/delete", data={"csrf": login_csrf(confirm.text)}
        )
        assert response.status_code == 303
    assert "doomed" not in api_monitors(dashboard)


def test_check_monitors_are_listed_read_only(dashboard: Dashboard) -> None:
    with dashboard.signed_in() as client:
        listing = client.get("/ui/monitors").text
    rows = re.findall(
        r'<tr data-monitor="([^"]+)" class="read-only">\s*<td class="monitor-state">.*?</td>'
        r"\s*<td>Check</td><td>http<",
        listing,
    )
    assert rows, "the seeded check is not listed"
    assert f'href="/ui/monitors/{rows[0]}"' not in listing


def test_names_are_escaped_and_forms_need_the_session_token(dashboard: Dashboard) -> None:
    with dashboard.api() as api:
        api.post(
            "/api/v0/monitors",
            json={"type": "host", "name": XSS_NAME, "metric": "loadavg5", "operator": ">",
                  "warning": 1},
        )  # fmt: skip
    with dashboard.signed_in() as client:
        page = client.get("/ui/monitors")
        assert "script-src 'self'" in page.headers["content-security-policy"]
        listing = page.text
        assert XSS_NAME not in listing and "&lt;script&gt;alert(1)&lt;/script&gt;" in listing
        forged = client.post("/ui/monitors/new/host", data={"name": "forged", "metric": "x"})
        assert forged.status_code == 403
        nul = client.post(
            "/ui/monitors/new/host",
            data={"csrf": login_csrf(listing), "name": "a\x00b", "metric": "loadavg5",
                  "operator": ">", "warning": "1"},
        )  # fmt: skip
        assert nul.status_code == 303  # stored, the NUL replaced as the API does
    assert "forged" not in api_monitors(dashboard)
    assert "a\ufffdb" in api_monitors(dashboard)
