"""Sign-in, sessions, CSRF and the security headers, against a real server."""

from __future__ import annotations

import subprocess
import sys

import httpx
from dashboard_server import ADMIN_PASSWORD, Dashboard, login_csrf, sign_in

from sabamon.server.web import auth


def test_pages_and_data_require_a_session(dashboard: Dashboard) -> None:
    with httpx.Client(base_url=dashboard.url) as anonymous:
        page = anonymous.get("/ui/hosts?status=working")
        assert page.status_code == 303
        assert page.headers["location"] == "/ui/login?next=%2Fui%2Fhosts%3Fstatus%3Dworking"
        host_id = dashboard.hosts["web-1"]
        data = anonymous.get(f"/ui/data/host/{host_id}/graph/loadavg?from=0&to=3600")
        assert data.status_code == 401
        assert data.json() == {"error": {"message": "Sign in first."}}
        # an API key is not a dashboard session
        keyed = anonymous.get(
            f"/ui/data/host/{host_id}/graph/loadavg?from=0&to=3600",
            headers={"X-Api-Key": "test-key-0123456789abcdef0123456789abcdef"},
        )
        assert keyed.status_code == 401


def test_sign_in_sets_a_hardened_cookie_and_redirects_to_next(dashboard: Dashboard) -> None:
    with httpx.Client(base_url=dashboard.url) as client:
        response = sign_in(client, "admin", ADMIN_PASSWORD, next_="/ui/services")
        assert response.status_code == 303
        assert response.headers["location"] == "/ui/services"
        cookie = next(
            h for h in response.headers.get_list("set-cookie") if h.startswith("sabamon_session=")
        )
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" not in cookie  # plain HTTP on loopback
        assert client.get("/ui/services").status_code == 200


def test_next_never_leaves_the_origin(dashboard: Dashboard) -> None:
    with httpx.Client(base_url=dashboard.url) as client:
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
            response = sign_in(client, "admin", ADMIN_PASSWORD, next_=target)
            assert response.headers["location"] == "/ui/hosts"


def test_wrong_password_and_unknown_user_are_refused_alike(dashboard: Dashboard) -> None:
    with httpx.Client(base_url=dashboard.url) as client:
        wrong = sign_in(client, "admin", "not the password")
        unknown = sign_in(client, "nobody", ADMIN_PASSWORD)
        for response in (wrong, unknown):
            assert response.status_code == 401
            assert "Wrong user name or password." in response.text
            assert "sabamon_session" not in response.headers.get("set-cookie", "")


def test_login_form_needs_its_csrf_cookie(dashboard: Dashboard) -> None:
    with httpx.Client(base_url=dashboard.url) as client:
        token = login_csrf(client.get("/ui/login").text)
        client.cookies.clear()
        response = client.post(
            "/ui/login", data={"username": "admin", "password": ADMIN_PASSWORD, "csrf": token}
        )
        assert response.status_code == 403
        assert "sabamon_session" not in response.headers.get("set-cookie", "")


def test_forms_without_the_session_csrf_token_are_rejected(dashboard: Dashboard) -> None:
    with dashboard.signed_in() as client:
        page = client.get("/ui/settings/api-keys")
        csrf = login_csrf(page.text)
        missing = client.post("/ui/settings/api-keys", data={"name": "x", "access": "read"})
        forged = client.post(
            "/ui/settings/api-keys", data={"name": "x", "access": "read", "csrf": "0" * 64}
        )
        assert missing.status_code == forged.status_code == 403
        created = client.post(
            "/ui/settings/api-keys", data={"name": "ci", "access": "read", "csrf": csrf}
        )
        assert created.status_code == 200
        # a new key is shown in full exactly once, then only its start
        full_keys = [k for k in created.text.split('id="new-key">')[1:]]
        key = full_keys[0].split("<")[0]
        with httpx.Client(base_url=dashboard.url, headers={"X-Api-Key": key}) as api:
            assert api.get("/api/v0/hosts").status_code == 200
        listing = client.get("/ui/settings/api-keys").text
        assert key not in listing and key[:6] in listing


def test_logout_ends_the_session(dashboard: Dashboard) -> None:
    with dashboard.signed_in() as client:
        csrf = login_csrf(client.get("/ui/hosts").text)
        token = client.cookies["sabamon_session"]
        assert client.post("/ui/logout", data={"csrf": csrf}).status_code == 303
        replay = httpx.get(f"{dashboard.url}/ui/hosts", cookies={"sabamon_session": token})
        assert replay.status_code == 303


def test_security_headers_on_dashboard_responses(dashboard: Dashboard) -> None:
    with dashboard.signed_in() as client:
        for path in ("/ui/login", "/ui/hosts", f"/ui/hosts/{dashboard.hosts['web-1']}"):
            headers = client.get(path).headers
            policy = headers["content-security-policy"]
            assert "script-src 'self'" in policy and "default-src 'self'" in policy
            assert "unsafe-inline" not in policy
            assert headers["x-content-type-options"] == "nosniff"
        page = client.get(f"/ui/hosts/{dashboard.hosts['web-1']}").text
        assert "<script>" not in page.replace('<script src="/ui/static/', "")
        assert " on" not in page.split("<body>")[1].split("</header>")[0].replace(" on ", "")


def test_user_command_adds_users_and_changes_passwords(dashboard: Dashboard) -> None:
    def user(*args: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "sabamon.cli",
                "user",
                *args,
                "--data",
                str(dashboard.data_dir),
                "--password-stdin",
            ],
            input=password + "\n",
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert user("add", "alice", password="alice-password-1").returncode == 0
    duplicate = user("add", "alice", password="alice-password-1")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    short = user("add", "bob", password="short")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    with dashboard.signed_in("alice", "alice-password-1") as alice:
        assert alice.get("/ui/hosts").status_code == 200
        assert user("passwd", "alice", password="alice-password-2").returncode == 0
        assert alice.get("/ui/hosts").status_code == 303  # signed out everywhere
    with httpx.Client(base_url=dashboard.url) as client:
        assert sign_in(client, "alice", "alice-password-1").status_code == 401
        assert sign_in(client, "alice", "alice-password-2").status_code == 303
    missing = user("passwd", "nobody", password="whatever-123")
    assert missing.returncode == 1 and "no user named 'nobody'" in missing.stderr


def test_password_hashes_are_scrypt_and_verify() -> None:
    stored = auth.hash_password("hunter2-hunter2")
    assert stored.startswith("scrypt$16384$8$1$")
    assert auth.verify_password("hunter2-hunter2", stored)
    assert not auth.verify_password("hunter3-hunter3", stored)
    assert not auth.verify_password("x", "garbage")


def test_closing_an_alert_needs_csrf_and_a_reason(fast_dashboard: Dashboard) -> None:
    from dashboard_server import open_load_alert

    alert_id = open_load_alert(fast_dashboard, "load", 50)
    with fast_dashboard.signed_in() as client:
        csrf = login_csrf(client.get(f"/ui/alerts/{alert_id}").text)
        forged = client.post(f"/ui/alerts/{alert_id}/close", data={"reason": "x"})
        empty = client.post(f"/ui/alerts/{alert_id}/close", data={"reason": " ", "csrf": csrf})
        closed = client.post(f"/ui/alerts/{alert_id}/close", data={"reason": "ok", "csrf": csrf})
        detail = client.get(f"/ui/alerts/{alert_id}").text
    assert forged.status_code == 403
    assert empty.status_code == 400 and "reason: give 1 to 1024 characters" in empty.text
    assert closed.status_code == 303
    assert 'id="alert-status">OK<' in detail and "manual" in detail
