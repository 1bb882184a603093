"""External HTTP monitors against loopback servers: failing, slow, healthy and TLS."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from sabamon.server.alerts.external import check
from sabamon.server.alerts.monitors import Monitor, validate_monitor


class Site:
    """Answers GET /ok (200 "healthy"), /fail (500), /slow (after 1.5 s), /moved (302)."""

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/slow":
                    time.sleep(1.5)
                code = {"/fail": 500, "/moved": 302}.get(self.path, 200)
                self.send_response(code)
                if code == 302:
                    self.send_header("Location", "/ok")
                body = f"healthy {self.headers.get('X-Probe', '')}".encode()
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.base = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def site() -> Iterator[Site]:
    running = Site()
    yield running
    running.server.shutdown()
    running.server.server_close()


def monitor(url: str, **extra: Any) -> Monitor:
    return Monitor(
        "ext1", validate_monitor({"type": "external", "name": "site", "url": url, **extra})
    )


async def test_healthy_failing_slow_and_content(site: Site) -> None:
    ok = await check(monitor(f"{site.base}/ok", headers=[{"name": "X-Probe", "value": "p1"}],
                             containsString="healthy p1"), time.time())  # fmt: skip
    assert ok.status == "OK" and ok.response_time_ms is not None
    failing = await check(monitor(f"{site.base}/fail"), time.time())
    assert (failing.status, failing.message) == ("CRITICAL", "status 500")
    slow = await check(monitor(f"{site.base}/slow", timeoutSeconds=1), time.time())
    assert (slow.status, slow.message) == ("CRITICAL", "timeout after 1 s")
    missing = await check(monitor(f"{site.base}/ok", containsString="nope"), time.time())
    assert missing.status == "CRITICAL" and "does not contain" in missing.message
    expected = await check(monitor(f"{site.base}/fail", expectedStatusCode=500), time.time())
    assert expected.status == "OK"


async def test_redirects_followed_only_when_asked(site: Site) -> None:
    assert (await check(monitor(f"{site.base}/moved"), time.time())).message == "status 302"
    followed = await check(monitor(f"{site.base}/moved", followRedirect=True), time.time())
    assert followed.message == "status 200"


async def test_certificate_expiry_days(certificate: tuple[Path, Path]) -> None:
    site = Site(certificate)
    try:
        url = f"{site.base}/ok"
        unverified = await check(monitor(url), time.time())
        assert unverified.status == "CRITICAL"  # self-signed, verification on
        soon = monitor(url, skipCertificateVerification=True, certificationExpirationWarning=30,
                       certificationExpirationCritical=3)  # fmt: skip
        result = await check(soon, time.time())
        assert result.status == "WARNING" and "expires in 5.0 days" in result.message
        later = await check(soon, time.time() + 3 * 86400)
        assert later.status == "CRITICAL"
        fine = await check(monitor(url, skipCertificateVerification=True,
                                   certificationExpirationWarning=2), time.time())  # fmt: skip
        assert fine.status == "OK"
    finally:
        site.server.shutdown()
        site.server.server_close()


async def test_header_values_past_ascii_are_sent_as_utf8(site: Site) -> None:
    probe = monitor(f"{site.base}/ok", headers=[{"name": "X-Probe", "value": "é"}],
                    containsString="healthy " + "é".encode().decode("latin-1"))  # fmt: skip
    result = await check(probe, time.time())
    assert result.status == "OK", result


@pytest.mark.parametrize(
    ("url", "header"),
    [
        ("http://127.0.0.1:99999/", {"name": "X-Probe", "value": "p"}),
        ("http://[::1/", {"name": "X-Probe", "value": "p"}),
        ("http://127.0.0.1:1/", {"name": "X Probe", "value": "a\r\nb"}),
    ],
    ids=["port past 65535", "malformed IPv6", "unsendable header"],
)
async def test_a_definition_saved_before_its_checks_fails_its_own_check(
    url: str, header: dict[str, str]
) -> None:
    """Monitors stored before the save-time checks (`outbound.url_problem`) are a
    CRITICAL result for themselves, never an error that stops the other checks."""
    stored = Monitor("old", {"type": "external", "url": url, "method": "GET", "headers": [header]})
    result = await check(stored, time.time())
    assert result.status == "CRITICAL" and result.message.startswith("request failed"), result
