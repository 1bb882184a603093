"""The graph of an alert reaches people who are not signed in: a real server (minutes
lasting a second, `--public-url` set) raises an alert from posted points, and

- the webhook receiver on loopback gets `imageUrl`, which answers 200 with a valid PNG to a
  client without a session; an unknown token is 404, and so is the same address once the
  image's week has passed (the server restarted with its clock a week ahead);
- the mail, through a real SMTP server (aiosmtpd), carries the PNG inline beside the HTML
  part that shows it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiosmtpd.controller import Controller
from PIL import Image
from tests.server.notify.receiver import Receiver, receiving
from tests.server.notify.test_email import Inbox
from tests.server.web.dashboard_server import open_load_alert, running_server
from tests.support.waiting import free_port

from sabamon.server.graphing.chart import CRITICAL
from sabamon.server.notify.images import IMAGE_LIFETIME

CLOCK_SCALE = 60.0
WAIT = 30.0  # real seconds for a delivery to arrive


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as peer:
        yield peer


def _wait(found: Any, what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while not (value := found()):
        assert time.monotonic() < deadline, f"no {what} within {WAIT:g} s"
        time.sleep(0.05)
    return value


def _png(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()  # decodes every pixel: a truncated or corrupt file raises here
    assert image.format == "PNG" and image.size == (960, 360)
    return image


def _has_colour(image: Image.Image, hex_colour: str) -> bool:
    want = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    colours = image.convert("RGB").getcolors(maxcolors=1 << 16) or []
    return any(all(abs(a - b) <= 24 for a, b in zip(c, want, strict=True)) for _, c in colours)


def test_an_alert_graph_reaches_webhook_and_mail_without_sign_in(
    tmp_path: Path, receiver: Receiver, inbox: tuple[Inbox, int]
) -> None:
    mails, smtp_port = inbox
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    smtp = ["--smtp-host", "127.0.0.1", "--smtp-port", str(smtp_port)]
    with running_server(data_dir, CLOCK_SCALE, options=smtp) as server:
        with server.api() as api:
            host = {"name": "web-1", "meta": {}, "roleFullnames": ["shop:web"]}
            server.hosts["web-1"] = api.post("/api/v0/hosts", json=host).json()["id"]
            for channel in (
                {"type": "webhook", "name": "hook", "url": receiver.url, "enabledGraphImage": True},
                {"type": "email", "name": "ops", "emails": ["ops@example.org"]},
            ):
                body = {**channel, "addToDefaultNotificationGroup": True}
                assert api.post("/api/v0/channels", json=body).status_code == 200
        alert_id = open_load_alert(server, "load", 5.0)

        def alert_posts() -> list[dict[str, Any]]:
            with receiver.lock:
                return [b for b in receiver.bodies if b.get("alert", {}).get("id") == alert_id]

        [hook] = _wait(alert_posts, "webhook post")[:1]
        image_url = hook["imageUrl"]
        assert image_url.startswith(f"{server.url}/graphs/") and image_url.endswith(".png")
        with httpx.Client(timeout=10) as anonymous:  # no session cookie, no API key
            answer = anonymous.get(image_url)
            assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
            image = _png(answer.content)
            assert _has_colour(image, CRITICAL)  # the critical threshold is drawn
            token = urlsplit(image_url).path.removeprefix("/graphs/").removesuffix(".png")
            other = token[:-1] + ("A" if token[-1] != "A" else "B")
            for path in (f"/graphs/{other}.png", "/graphs/nothing.png", f"/graphs/{token}"):
                missing = anonymous.get(server.url + path)
                assert missing.status_code == 404, path
                assert "no such graph image" in missing.json()["error"]["message"]

        [(_, content)] = _wait(lambda: mails.messages, "mail")[:1]
        mail = message_from_bytes(content)
        parts: list[Message] = list(mail.walk())
        html = next(p for p in parts if p.get_content_type() == "text/html")
        picture = next(p for p in parts if p.get_content_type() == "image/png")
        assert 'src="cid:graph@sabamon"' in html.get_payload(decode=True).decode()
        assert picture["Content-ID"] == "<graph@sabamon>"
        _png(picture.get_payload(decode=True))

    week_later = time.time() - (IMAGE_LIFETIME + 3600) / (CLOCK_SCALE - 1)
    with running_server(data_dir, CLOCK_SCALE, clock_anchor=week_later) as later:
        path = urlsplit(image_url).path
        assert httpx.get(later.url + path, timeout=10).status_code == 404  # expired
