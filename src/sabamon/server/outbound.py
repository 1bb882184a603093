"""Requests the server makes to URLs its users give it: webhook and Slack channels,
external HTTP monitors.

Each such peer is bounded three ways:

- target networks: `OutboundPolicy` lists the networks a request may connect to
  (`--outbound-networks`, default every network: self-hosted monitoring watches internal
  URLs). The check runs on every address the name resolves to and the connection goes to
  an allowed address only, so a name that re-resolves or a redirect cannot reach elsewhere;
- time: callers wrap the whole exchange (connect, send, the whole response) in one
  deadline, since httpx's own timeouts are per read and a peer trickling a byte at a time
  never trips them;
- size: `read_prefix` reads at most a given number of bytes of a response body.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

EVERY_NETWORK = ("0.0.0.0/0", "::/0")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class OutboundPolicy:
    networks: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in EVERY_NETWORK)

    @classmethod
    def parse(cls, text: str) -> OutboundPolicy:
        """'10.0.0.0/8,192.168.1.5' → the policy; raises ValueError naming the bad entry."""
        networks = []
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"{entry!r} is not a network (CIDR) or an address") from None
        return cls(tuple(networks))

    def text(self) -> str:
        return ",".join(str(n) for n in self.networks)

    def refusal(self, field: str, url: str) -> str | None:
        """Why a definition may not name `url`, or None: its host is a literal address
        outside the networks. A host name passes here and is checked against the networks
        each time it is resolved to connect (`GuardedBackend`)."""
        host = urlsplit(url).hostname or ""
        try:
            ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return None
        if self.allows(host):
            return None
        return (
            f"{field}: {host} is outside the networks outbound requests may reach"
            f" ({self.text()}; see --outbound-networks)"
        )

    def allows(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == n.version and ip in n for n in self.networks)


class OutsideNetworks(httpcore.ConnectError):
    """The target resolves only to addresses outside the allowed networks."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's default backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        allowed = [a for a in addresses if self.policy.allows(a)]
        if not allowed:
            raise OutsideNetworks(
                f"{host} ({', '.join(addresses)}) is outside the allowed target networks"
                f" ({self.policy.text()}; see --outbound-networks)"
            )
        error: Exception | None = None
        for address in allowed:
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are not a target")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def outbound_client(
    policy: OutboundPolicy,
    timeout: float,
    *,
    verify: bool = True,
    follow_redirects: bool = False,
) -> httpx.AsyncClient:
    """An httpx client whose connections obey `policy`; environment proxies are ignored
    (a proxy would connect on the server's behalf, past the policy)."""
    transport = httpx.AsyncHTTPTransport(verify=verify, trust_env=False)
    # httpx has no public way to pass httpcore's network backend to its pool
    transport._pool._network_backend = GuardedBackend(policy)
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=follow_redirects,
        trust_env=False,
        headers={"Accept-Encoding": "identity"},  # a prefix of the body as sent, no inflating
    )


async def read_prefix(response: httpx.Response, limit: int) -> bytes:
    """At most `limit` bytes of a streamed response's body; the rest is never read."""
    data = bytearray()
    async for chunk in response.aiter_bytes():
        data += chunk
        if len(data) >= limit:
            break
    return bytes(data[:limit])
