"""Sends mail over SMTP (stdlib smtplib on a thread), with optional STARTTLS and login.

The server takes the settings from `--smtp-*` flags (`server/settings.py`); the password
only ever comes from `SABAMON_SMTP_PASSWORD`.
"""

from __future__ import annotations

import asyncio
import contextlib
import smtplib
import socket
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from sabamon.server.notify.webhook import SendError


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "sabamon@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 10.0
    tls_context: ssl.SSLContext | None = None  # None: the system's trust store


def _send(settings: SmtpSettings, message: EmailMessage, opened: list[smtplib.SMTP]) -> None:
    """Runs on a thread; appends its connection to `opened` so a deadline can abort it.

    STARTTLS sends `SMTP._host` as SNI and checks the certificate against it, and smtplib
    sets it only in the constructor, which then connects and waits for the greeting before
    the connection is in `opened`, out of the deadline's reach. No public way names the
    TLS host otherwise, so the attribute is set here, before `connect`."""
    with smtplib.SMTP(timeout=settings.timeout) as smtp:
        opened.append(smtp)
        smtp._host = settings.host  # type: ignore[attr-defined]  # see the docstring
        smtp.connect(settings.host, settings.port)
        if settings.starttls:
            smtp.starttls(context=settings.tls_context or ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


async def send_mail(
    settings: SmtpSettings,
    to: list[str],
    subject: str,
    text: str,
    html: str | None = None,
    images: Mapping[str, bytes] | None = None,
) -> None:
    """Plain text, with `html` as the alternative part when given; `images` (Content-ID →
    PNG bytes) travel beside the HTML part (multipart/related), which shows them as
    `<img src="cid:…">`."""
    if not to:
        raise SendError("email channel has no addresses")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, ", ".join(to), subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
        html_part = message.get_body(("html",))
        assert html_part is not None  # just added
        for cid, png in (images or {}).items():
            html_part.add_related(png, "image", "png", cid=f"<{cid}>", disposition="inline")
    opened: list[smtplib.SMTP] = []
    try:
        await asyncio.to_thread(_send, settings, message, opened)
    except (OSError, smtplib.SMTPException) as exc:
        raise SendError(f"{type(exc).__name__}: {exc}") from exc
    except asyncio.CancelledError:  # the caller's deadline: end the thread's dialogue now
        for smtp in opened:
            if smtp.sock is not None:
                with contextlib.suppress(OSError):
                    smtp.sock.shutdown(socket.SHUT_RDWR)
        raise
