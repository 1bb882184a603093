"""`POST /ui/settings/time-zone` from a hostile form: names that are paths, files beside
the zones, out-of-range offsets or 10 KB long are refused (400, the name cut short in the
page) and leave the stored zone as it was; a form without the session's CSRF token is
refused like every other dashboard form."""

from __future__ import annotations

from dashboard_server import Dashboard, login_csrf

ODD_NAMES = [
    "../../etc/passwd",
    "/etc/passwd",
    "posixrules",
    "localtime",
    "Etc/GMT+99",
    "Europe/../Asia/Tokyo",
    "X" * 10_000,
]


def test_odd_zone_names_and_forged_forms_are_refused(dashboard: Dashboard) -> None:
    with dashboard.signed_in() as client:
        csrf = login_csrf(client.get("/ui/settings/time-zone").text)
        chosen = client.post("/ui/settings/time-zone", data={"zone": "Asia/Tokyo", "csrf": csrf})
        assert chosen.status_code == 303, chosen.text
        for name in ODD_NAMES:
            answer = client.post("/ui/settings/time-zone", data={"zone": name, "csrf": csrf})
            assert answer.status_code == 400, name
            assert "is not a time zone name of the tz database" in answer.text, name
            assert len(answer.text) < 20_000, len(answer.text)
        forged = client.post("/ui/settings/time-zone", data={"zone": "UTC", "csrf": "0" * 64})
        assert forged.status_code == 403, forged.status_code
        page = client.get("/ui/settings/time-zone").text
        assert 'data-user-zone="Asia/Tokyo"' in page
