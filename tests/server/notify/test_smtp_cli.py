"""SMTP settings from `sabamon server --smtp-*` and SABAMON_SMTP_PASSWORD: a real server
process sends an email channel's test notification to a real SMTP server on loopback
(the variables themselves: tests/server/test_settings.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from email import message_from_bytes
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller
from tests.server.notify.test_email import Inbox
from tests.support.waiting import free_port

SABAMON = [sys.executable, "-m", "sabamon.cli"]


def test_bad_port_is_refused_naming_the_variable(tmp_path: Path) -> None:
    done = subprocess.run(
        [*SABAMON, "server", "--data", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "SABAMON_SMTP_PORT": "smtp"},
    )  # fmt: skip
    assert done.returncode == 2 and "SABAMON_SMTP_PORT='smtp'" in done.stderr


def test_server_flags_reach_the_email_channel(tmp_path: Path) -> None:
    inbox, smtp_port, port = Inbox(), free_port(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    key = "k" * 32
    server = subprocess.Popen(
        [*SABAMON, "server", "--data", str(tmp_path), "--listen", f"127.0.0.1:{port}",
         "--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port),
         "--smtp-from", "alerts@sabamon.test"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "SABAMON_BOOTSTRAP_API_KEY": key},
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        with httpx.Client(base_url=url, headers={"X-Api-Key": key}, timeout=5) as http:
            while True:
                assert server.poll() is None, "the server exited"
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the server did not become healthy"
                time.sleep(0.05)
            channel = http.post("/api/v0/channels", json={
                "type": "email", "name": "ops", "emails": ["ops@example.org"]}).json()  # fmt: skip
            assert http.post(f"/api/v0/channels/{channel['id']}/test").status_code == 200
            while not inbox.messages:
                assert time.monotonic() < deadline + 30, "no mail arrived"
                time.sleep(0.05)
        [(recipients, content)] = inbox.messages
        assert recipients == ["ops@example.org"]
        assert message_from_bytes(content)["From"] == "alerts@sabamon.test"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        controller.stop()
