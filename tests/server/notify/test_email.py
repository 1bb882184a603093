"""Email channels against a real SMTP server (aiosmtpd) on loopback, plain and STARTTLS."""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.support.waiting import free_port

from sabamon.server.notify.email import SmtpSettings, send_mail
from sabamon.server.notify.webhook import SendError


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture(params=["plain", "starttls"])
def smtp(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox, port = Inbox(), free_port()
    options: dict[str, Any] = {}
    settings = SmtpSettings(host="127.0.0.1", port=port, sender="alerts@sabamon.test")
    if request.param == "starttls":
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(*certificate)
        options = {"tls_context": server_context, "require_starttls": True}
        client_context = ssl.create_default_context(cafile=str(certificate[0]))
        settings = SmtpSettings(host="127.0.0.1", port=port, sender="alerts@sabamon.test",
                                starttls=True, tls_context=client_context)  # fmt: skip
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield inbox, settings
    finally:
        controller.stop()


async def test_sends_mail(smtp: tuple[Inbox, SmtpSettings]) -> None:
    inbox, settings = smtp
    await send_mail(
        settings, ["ops@example.org", "dev@example.org"], "[test] CRITICAL: load", "body\n"
    )
    [(recipients, content)] = inbox.messages
    assert recipients == ["ops@example.org", "dev@example.org"]
    mail = message_from_bytes(content)
    assert mail["Subject"] == "[test] CRITICAL: load" and mail["From"] == "alerts@sabamon.test"
    assert mail.get_payload().strip() == "body"


async def test_the_graph_travels_in_an_html_part(smtp: tuple[Inbox, SmtpSettings]) -> None:
    inbox, settings = smtp
    html = '<p>load</p><svg xmlns="http://www.w3.org/2000/svg"><polyline points="0,0 1,1"/></svg>'
    await send_mail(settings, ["ops@example.org"], "[test] CRITICAL: load", "text ▁▂▃\n", html)
    [(_, content)] = inbox.messages
    mail = message_from_bytes(content)
    assert mail.get_content_type() == "multipart/alternative"
    plain, rich = mail.get_payload()
    assert (
        plain.get_content_type() == "text/plain"
        and "▁▂▃" in plain.get_payload(decode=True).decode()
    )
    assert rich.get_content_type() == "text/html"
    assert "<polyline" in rich.get_payload(decode=True).decode()


async def test_the_graph_png_travels_inline_beside_the_html(
    smtp: tuple[Inbox, SmtpSettings],
) -> None:
    """An image given with the HTML part becomes a related part its `cid:` address shows."""
    from io import BytesIO

    from PIL import Image

    from sabamon.server.graphing.chart import Chart
    from sabamon.server.graphing.png import render_png

    inbox, settings = smtp
    png = render_png(Chart([(0, 1.0), (60, 2.0)], 0, 120, "float", "loadavg5"))
    html = '<p>load</p><img src="cid:graph@sabamon">'
    await send_mail(settings, ["ops@example.org"], "[test] load", "text\n", html,
                    {"graph@sabamon": png})  # fmt: skip
    [(_, content)] = inbox.messages
    mail = message_from_bytes(content)
    _, related = mail.get_payload()
    assert related.get_content_type() == "multipart/related"
    rich, image = related.get_payload()
    assert 'src="cid:graph@sabamon"' in rich.get_payload(decode=True).decode()
    assert image["Content-ID"] == "<graph@sabamon>" and image.get_content_type() == "image/png"
    assert Image.open(BytesIO(image.get_payload(decode=True))).size == (960, 360)


async def test_unreachable_server_is_a_send_error() -> None:
    with pytest.raises(SendError, match="ConnectionRefusedError"):
        await send_mail(SmtpSettings(port=free_port(), timeout=2), ["a@b.c"], "s", "t")


async def test_a_server_that_never_greets_is_cut_off_at_the_deadline() -> None:
    """The connection is shut down at the caller's deadline even while smtplib waits for
    the greeting (the reason `_send` connects after registering the connection), not
    after the 10 s socket timeout."""
    listener = socket.create_server(("127.0.0.1", 0))
    settings = SmtpSettings(port=listener.getsockname()[1], timeout=10)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await send_mail(settings, ["a@b.c"], "s", "t")
    conn, _ = listener.accept()
    conn.settimeout(5)
    assert conn.recv(1) == b""  # the client shut the connection down
    assert time.monotonic() - started < 3
    conn.close()
    listener.close()
