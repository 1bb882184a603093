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
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

from sabamon.server.pool_transport import PoolTransport

EVERY_NETWORK = ("0.0.0.0/0", "::/0")
MAX_CONNECTIONS = 100
MAX_KEEPALIVE_CONNECTIONS = 20
KEEPALIVE_EXPIRY = 5.0
"""The connection pool of one client: httpx's default limits."""
MAX_URL = 2048
"""Characters of a URL a definition names: the length every browser and server takes."""
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""A header field name: an RFC 9110 token."""
HEADER_VALUE = re.compile(r"[^\x00-\x08\x0a-\x1f\x7f]*")
"""A header field value that can be sent (as UTF-8): no control characters but tabs."""

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def url_problem(url: object) -> str | None:
    """Why `url` cannot be the target of an outbound request, or None: it must be an http
    or https URL of at most `MAX_URL` characters that httpx parses, naming a host, with a
    port (if any) from 1 to 65535. Checked when a definition is saved, so a webhook or an
    external monitor never holds a URL that fails at every attempt."""
    if not isinstance(url, str):
        return "must be an http or https URL"
    if len(url) > MAX_URL:
        return f"must be at most {MAX_URL} characters"
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        return f"is not a valid URL ({exc})"
    if parsed.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if not parsed.host:
        return "must name a host"
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        return f"port {parsed.port}: must be from 1 to 65535"
    return None


def failure_text(exc: BaseException) -> str:
    """ "<Type>: <message>" of a request that failed; of an exception group (anyio's
    connect raises one), its first inner error's."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def header_problem(name: object, value: object) -> str | None:
    """Why a request header cannot be sent, or None: its name must be a token and its
    value free of control characters but tabs (h11 refuses line breaks and NUL at every
    attempt). Values are sent as UTF-8 (`header_bytes`)."""
    if not isinstance(name, str) or not HEADER_NAME.fullmatch(name):
        return "name: must be a header name (letters, digits and !#$%&'*+-.^_`|~)"
    if not isinstance(value, str) or not HEADER_VALUE.fullmatch(value):
        return "value: must be text without control characters (line breaks, NUL)"
    return None


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
    """An httpx client whose connections obey `policy` (through httpcore's public network
    backend API, `pool_transport`); environment proxies are ignored (a proxy would connect
    on the server's behalf, past the policy)."""
    pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
        max_connections=MAX_CONNECTIONS,
        max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
        keepalive_expiry=KEEPALIVE_EXPIRY,
        network_backend=GuardedBackend(policy),
    )
    return httpx.AsyncClient(
        transport=PoolTransport(pool),
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
