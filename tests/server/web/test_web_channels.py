"""Channel and notification-group forms on a real server, the test button delivering to a
loopback webhook receiver, and the delivery log showing how each delivery went."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from dashboard_server import Dashboard, login_csrf, wait_for_sample
from tests.server.notify.receiver import Receiver, receiving

DELIVERY_WAIT = 20.0


@pytest.fixture(scope="module")
def dashboard(fast_dashboard: Dashboard) -> Dashboard:
    """The fast-clock server: its delivery worker wakes each (one-second) minute."""
    return fast_dashboard


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as peer:
        yield peer


def api_get(dashboard: Dashboard, path: str) -> Any:
    with dashboard.api() as api:
        return api.get(path).json()


def channels(dashboard: Dashboard) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in api_get(dashboard, "/api/v0/channels")["channels"]}


def create_channel(client: httpx.Client, kind: str, form: dict[str, str]) -> httpx.Response:
    token = login_csrf(client.get(f"/ui/channels/new/{kind}").text)
    return client.post(f"/ui/channels/new/{kind}", data={"csrf": token, **form})


def wait_for_log(client: httpx.Client, path: str, pattern: str) -> str:
    deadline = time.monotonic() + DELIVERY_WAIT
    while True:
        page = client.get(path).text
        if re.search(pattern, page, re.S):
            return page
        assert time.monotonic() < deadline, f"{pattern!r} not in the delivery log"
        time.sleep(0.1)


def test_webhook_channel_test_button_delivers_and_is_logged(
    dashboard: Dashboard, receiver: Receiver
) -> None:
    with dashboard.signed_in() as client:
        created = create_channel(
            client, "webhook", {"name": "ops hook", "url": receiver.url, "events": "alert"}
        )
        assert created.status_code == 303, created.text
        channel = channels(dashboard)["ops hook"]
        assert channel["type"] == "webhook" and channel["url"] == receiver.url
        assert channel["events"] == ["alert"]
        page = client.get(f"/ui/channels/{channel['id']}")
        tested = client.post(
            f"/ui/channels/{channel['id']}/test", data={"csrf": login_csrf(page.text)}
        )
        assert tested.status_code == 303
        assert "Test notification queued" in client.get(tested.headers["location"]).text
        assert wait_for_sample(receiver)["message"]
        log = wait_for_log(
            client,
            f"/ui/channels/{channel['id']}",
            r"<td>test</td>\s*<td><span class=\"status delivery-sent\">sent</span></td>\s*"
            r"<td class=\"num\">1</td>",
        )
        assert "Nothing delivered yet" not in log
        assert 'class="status delivery-sent"' in client.get("/ui/channels").text


def test_a_failing_channel_shows_its_error_and_next_retry(dashboard: Dashboard) -> None:
    with receiving(fail_first=100) as failing, dashboard.signed_in() as client:
        create_channel(client, "webhook", {"name": "broken hook", "url": failing.url})
        channel_id = channels(dashboard)["broken hook"]["id"]
        page = client.get(f"/ui/channels/{channel_id}")
        client.post(f"/ui/channels/{channel_id}/test", data={"csrf": login_csrf(page.text)})
        log = wait_for_log(
            client,
            f"/ui/channels/{channel_id}",
            r"delivery-pending\">pending</span></td>\s*<td class=\"num\">1</td>",
        )
    row = re.search(r'<tr data-delivery="[^"]+">(.*?)</tr>', log, re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row[1], re.S)
    assert "503" in cells[4]  # last error
    assert cells[5].endswith("UTC</time>")  # next retry, in UTC until time.js names the zone


def test_slack_and_email_forms_and_their_errors(dashboard: Dashboard) -> None:
    with dashboard.signed_in() as client:
        bad = create_channel(client, "email", {"name": "mail", "emails": "ops@example.org, nope"})
        assert bad.status_code == 400
        assert re.search(
            r'data-field="emails">.*?field-error" role="alert">emails: &#39;nope&#39; is not an '
            r"email address</p>",
            bad.text,
            re.S,
        )
        assert 'value="ops@example.org, nope"' in bad.text
        ok = create_channel(
            client, "email", {"name": "mail", "emails": "ops@example.org, db@example.org"}
        )
        assert ok.status_code == 303
        slack = create_channel(
            client,
            "slack",
            {"name": "chat", "url": "https://hooks.slack.test/services/T/B/x",
             "mentions.critical": "<!here>", "enabledGraphImage": "on", "events": "alert"},
        )  # fmt: skip
        assert slack.status_code == 303, slack.text
        no_url = create_channel(client, "slack", {"name": "chat 2", "url": "hooks"})
        assert no_url.status_code == 400 and "url: must be an http or https URL" in no_url.text
        made = channels(dashboard)
        assert made["mail"]["emails"] == ["ops@example.org", "db@example.org"]
        assert made["chat"]["mentions"] == {"critical": "<!here>"}
        assert made["chat"]["enabledGraphImage"] is True
        assert "chat 2" not in made
        edit = client.get(f"/ui/channels/{made['chat']['id']}")
        assert 'value="&lt;!here&gt;"' in edit.text
        renamed = client.post(
            f"/ui/channels/{made['chat']['id']}",
            data={"csrf": login_csrf(edit.text), "name": "chat room",
                  "url": "https://hooks.slack.test/services/T/B/y", "events": "alert"},
        )  # fmt: skip
        assert renamed.status_code == 303
        assert channels(dashboard)["chat room"]["url"].endswith("/y")
        confirm = client.get(f"/ui/channels/{made['mail']['id']}/delete")
        assert "Delete channel <q>mail</q>?" in confirm.text
        client.post(
            f"/ui/channels/{made['mail']['id']}/delete", data={"csrf": login_csrf(confirm.text)}
        )
    assert "mail" not in channels(dashboard)


def test_notification_group_form(dashboard: Dashboard, receiver: Receiver) -> None:
    with dashboard.api() as api:
        hook = api.post(
            "/api/v0/channels", json={"type": "webhook", "name": "group hook", "url": receiver.url}
        ).json()
        monitor = api.post(
            "/api/v0/monitors",
            json={"type": "host", "name": "grouped", "metric": "loadavg5", "operator": ">",
                  "warning": 5},
        ).json()  # fmt: skip
    with dashboard.signed_in() as client:
        page = client.get("/ui/notification-groups")
        assert "Default" in page.text and "default</small>" in page.text
        token = login_csrf(page.text)
        missing_name = client.post(
            "/ui/notification-groups",
            data={"csrf": token, "name": " ", "childChannelIds": hook["id"]},
        )
        assert missing_name.status_code == 400
        assert re.search(r'data-field="name">.*?name: is required</p>', missing_name.text, re.S)
        unknown = client.post(
            "/ui/notification-groups",
            data={"csrf": token, "name": "ghosts", "childChannelIds": [hook["id"], "gone"]},
        )
        assert unknown.status_code == 400
        assert "childChannelIds[1]: no notification channel" in unknown.text
        created = client.post(
            "/ui/notification-groups",
            data={"csrf": token, "name": "db team", "notificationLevel": "critical",
                  "childChannelIds": [hook["id"]], "monitors": [monitor["id"]],
                  "services": "shop, billing"},
        )  # fmt: skip
        assert created.status_code == 303, created.text
        groups = api_get(dashboard, "/api/v0/notification-groups")["notificationGroups"]
        group = next(g for g in groups if g["name"] == "db team")
        assert group["notificationLevel"] == "critical"
        assert group["childChannelIds"] == [hook["id"]]
        assert group["monitors"] == [{"id": monitor["id"], "skipDefault": False}]
        assert group["services"] == [{"name": "shop"}, {"name": "billing"}]
        edit = client.get(f"/ui/notification-groups/{group['id']}").text
        assert f'value="{monitor["id"]}" checked' in edit
        client.post(
            f"/ui/notification-groups/{group['id']}/delete", data={"csrf": login_csrf(edit)}
        )
        default = next(g for g in groups if g["type"] == "group-default")
        refused = client.post(
            f"/ui/notification-groups/{default['id']}/delete", data={"csrf": login_csrf(edit)}
        )
        assert refused.status_code == 400
        assert "the default notification group cannot be deleted" in refused.text
    names = {
        g["name"] for g in api_get(dashboard, "/api/v0/notification-groups")["notificationGroups"]
    }
    assert "db team" not in names and "Default" in names


def test_closing_an_alert_in_the_dashboard_notifies_manual_close(
    dashboard: Dashboard, receiver: Receiver
) -> None:
    from dashboard_server import open_load_alert

    with dashboard.api() as api:
        api.post(
            "/api/v0/channels",
            json={"name": "close hook", "type": "webhook", "url": receiver.url,
                  "events": ["alert"], "addToDefaultNotificationGroup": True},
        ).raise_for_status()  # fmt: skip
    alert_id = open_load_alert(dashboard, "close me", 70)
    with dashboard.signed_in() as client:
        csrf = login_csrf(client.get(f"/ui/alerts/{alert_id}").text)
        closed = client.post(f"/ui/alerts/{alert_id}/close", data={"reason": "fixed", "csrf": csrf})
    assert closed.status_code == 303

    deadline = time.monotonic() + DELIVERY_WAIT
    while True:
        with receiver.lock:
            closes = [
                body for body in receiver.bodies
                if body.get("alert", {}).get("id") == alert_id
                and body["alert"].get("trigger") == "manual close"
            ]  # fmt: skip
        if closes:
            break
        assert time.monotonic() < deadline, (f"no manual-close notification in {receiver.bodies}",)
        time.sleep(0.05)
    assert closes[0]["alert"]["status"] == "ok" and closes[0]["alert"]["isOpen"] is False
