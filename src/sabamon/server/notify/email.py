"""Sends mail over SMTP (stdlib smtplib on a thread), with optional STARTTLS and login.

The server takes the settings from `--smtp-*` flags, which it hands to its workers in
`SABAMON_SMTP_*` variables; the password only ever comes from `SABAMON_SMTP_PASSWORD`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import smtplib
import socket
import ssl
from collections.abc import Mapping, MutableMapping
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


SMTP_ENV = {
    "host": "SABAMON_SMTP_HOST",
    "port": "SABAMON_SMTP_PORT",
    "sender": "SABAMON_SMTP_FROM",
    "starttls": "SABAMON_SMTP_STARTTLS",
    "username": "SABAMON_SMTP_USER",
    "password": "SABAMON_SMTP_PASSWORD",
}


def add_smtp_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("email notifications (password: $SABAMON_SMTP_PASSWORD)")
    group.add_argument("--smtp-host", help=f"default {SmtpSettings.host}")
    group.add_argument("--smtp-port", type=int, help=f"default {SmtpSettings.port}")
    group.add_argument("--smtp-from", help=f"sender address, default {SmtpSettings.sender}")
    group.add_argument("--smtp-starttls", action="store_true", default=None)
    group.add_argument("--smtp-user", help="log in as this user")


def export_smtp_arguments(args: argparse.Namespace, environ: MutableMapping[str, str]) -> None:
    """Puts the flags given into `environ`, where each worker's app reads them."""
    given = {"host": args.smtp_host, "port": args.smtp_port, "sender": args.smtp_from,
             "starttls": args.smtp_starttls, "username": args.smtp_user}  # fmt: skip
    for field, value in given.items():
        if value is not None:
            environ[SMTP_ENV[field]] = str(value)


def smtp_from_environment(environ: Mapping[str, str]) -> SmtpSettings:
    """The settings in `SABAMON_SMTP_*`; a bad port raises ValueError naming the variable."""
    port = environ.get(SMTP_ENV["port"], str(SmtpSettings.port))
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{SMTP_ENV['port']}={port!r}: expected a port number")
    return SmtpSettings(
        host=environ.get(SMTP_ENV["host"], SmtpSettings.host),
        port=int(port),
        sender=environ.get(SMTP_ENV["sender"], SmtpSettings.sender),
        starttls=environ.get(SMTP_ENV["starttls"], "").lower() in ("1", "true", "yes"),
        username=environ.get(SMTP_ENV["username"]) or None,
        password=environ.get(SMTP_ENV["password"]) or None,
    )


def _send(settings: SmtpSettings, message: EmailMessage, opened: list[smtplib.SMTP]) -> None:
    """Runs on a thread; appends its connection to `opened` so a deadline can abort it."""
    with smtplib.SMTP(timeout=settings.timeout) as smtp:
        opened.append(smtp)
        smtp._host = settings.host  # type: ignore[attr-defined]  # STARTTLS sends it as SNI
        smtp.connect(settings.host, settings.port)
        if settings.starttls:
            smtp.starttls(context=settings.tls_context or ssl.create_default_context())
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        smtp.send_message(message)


async def send_mail(
    settings: SmtpSettings, to: list[str], subject: str, text: str, html: str | None = None
) -> None:
    """Plain text, with `html` as the alternative part when given."""
    if not to:
        raise SendError("email channel has no addresses")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, ", ".join(to), subject
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
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
