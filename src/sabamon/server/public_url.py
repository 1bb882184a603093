"""The address people reach the dashboard at, for the links in notifications.

`sabamon server --public-url https://mon.example.com` (see `settings.py`) sets it;
without it the links use the `--listen` address, which only works on that machine. Every
link a notification, an email or the API's alert `url` fields carry is built here, so they
all open the dashboard's own pages (`/ui/alerts/<id>`, `/ui/hosts/<id>`).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit


def parse_public_url(value: str) -> str:
    """`value` without a trailing slash; raises ValueError naming the flag when it is not an
    absolute http(s) URL without query or fragment."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--public-url {value!r}: expected an http:// or https:// address")
    if parts.query or parts.fragment:
        raise ValueError(f"--public-url {value!r}: give no query (?…) or fragment (#…)")
    return value.strip().rstrip("/")


def listen_url(host: str, port: int) -> str:
    """The fallback: the listen address (a wildcard host reads as loopback)."""
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else ("[::1]" if host == "::" else host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def alert_url(base: str, alert_id: str) -> str:
    return f"{base}/ui/alerts/{quote(alert_id, safe='')}"


def host_url(base: str, host_id: str, around: tuple[int, int] | None = None) -> str:
    """The host page; `around` (from, to epoch seconds) opens its graphs on that range."""
    url = f"{base}/ui/hosts/{quote(host_id, safe='')}"
    return url if around is None else f"{url}#from={around[0]}&to={around[1]}"


def service_url(base: str, service: str, role: str | None = None) -> str:
    url = f"{base}/ui/services/{quote(service, safe='')}"
    return url if role is None else f"{url}#role={quote(role, safe='')}"
