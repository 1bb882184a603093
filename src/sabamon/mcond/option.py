"""Settings of an mcond node, with the Go original's defaults where it has them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MCondOption:
    """How one node reaches Redis, where it listens and how it talks to its peers.

    ``addr`` defaults to loopback; the Go original's ``:9012`` means every interface and
    still does here when given explicitly. ``relay`` makes a received broadcast go on to
    this node's peers once (never a relayed one again); Go nodes always relay, so never
    list a Go node and its peer in both directions. With ``secret`` set, calls are signed
    and unsigned calls refused (see :mod:`sabamon.mcond.signing`): Go nodes cannot sign.
    """

    redis_host: str = "localhost:6379"
    redis_db: int = 0
    addr: str = "127.0.0.1:9012"
    peer_timeout: float = 2.0
    poll_interval: float = 1.0
    relay: bool = False
    secret: str | None = None


def split_host_port(address: str, what: str) -> tuple[str, int]:
    """``"host:port"`` → ``("host", port)``; ``"[::1]:80"`` works too. Raises ValueError."""
    host, sep, port_text = address.rpartition(":")
    if not sep or not port_text.isdigit() or int(port_text) > 65535:
        raise ValueError(f"mcond {what} must be host:port, got {address!r}")
    return host.strip("[]"), int(port_text)
