"""A small keep-alive HTTP/1.1 client on `socket`, for the agent's API calls and cloud probes.

Why not httpx or `http.client`: the agent runs on every host within a 25 MB RSS budget, and
measured beside a bare `python -c 'import psutil'` (12.5 MB) httpx adds ~17 MB and
`http.client` ~5.6 MB (it always imports `ssl` and the `email` parser). This client imports
`ssl` only for an https URL or proxy tunnel.

Scope is what the Mackerel v0 API needs: requests with a Content-Length body; answers with a
Content-Length, chunked or close-delimited body; no redirects followed, no compression. An
idle connection the server has closed is noticed before reuse and replaced, so a request is
never sent twice by this layer. Proxies come from HTTP(S)_PROXY and NO_PROXY when
`use_env_proxy` is set.

A connection's `timeout` bounds each request as a whole: looking the name up, connecting (and
the TLS handshake or proxy tunnel), sending, and reading the whole answer, as Go's
`http.Client.Timeout` bounds mackerel-agent's calls. A per-read timeout alone would let a peer
that trickles a byte now and then hold the caller for ever; `socket.create_connection` would
give the name lookup no bound at all and each of a name's addresses the whole timeout.
"""

from __future__ import annotations

import base64
import io
import os
import select
import socket
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    import ssl
    from collections.abc import Callable, Sequence

    from _typeshed import WriteableBuffer

MAX_LINE = 65536
MAX_HEADERS = 100
MAX_BODY = 16 * 1024 * 1024
"""Bytes of an answer's body. The API's and the cloud metadata services' answers are small;
a peer that announces or sends more is an error before the agent allocates it."""


class HttpError(Exception):
    """No usable answer: refused, timed out, dropped, or not HTTP."""


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int
    userinfo: str = ""

    @classmethod
    def parse(cls, url: str) -> Origin:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise HttpError(f"not an http(s) URL: {url!r}")
        default = 443 if parts.scheme == "https" else 80
        userinfo = parts.netloc.rpartition("@")[0]
        return cls(parts.scheme, parts.hostname, parts.port or default, unquote(userinfo))

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def env_proxy(target: Origin) -> Origin | None:
    """The proxy for `target` from {scheme}_proxy / NO_PROXY (either case), or None."""
    no_proxy = os.environ.get("no_proxy", os.environ.get("NO_PROXY", ""))
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry == "*" or (entry and target.host.lower().endswith(entry.lstrip("."))):
            return None
    name = f"{target.scheme}_proxy"
    url = os.environ.get(name) or os.environ.get(name.upper())
    return Origin.parse(url) if url else None


class TlsContext:
    """One TLS client context, made at the first https connection and shared by the
    connections given it (thread-safe). Making one loads the system's CA store: ~24 ms of CPU
    (measured), more than an agent's whole minute, which a server closing idle connections
    between the minute's posts would otherwise have paid again each minute."""

    def __init__(self) -> None:
        self._context: ssl.SSLContext | None = None
        self._lock = threading.Lock()

    def wrap(self, sock: socket.socket, host: str) -> socket.socket:
        with self._lock:
            if self._context is None:
                import ssl  # only https pays for OpenSSL (~4 MB RSS)

                self._context = ssl.create_default_context()
            context = self._context
        return context.wrap_socket(sock, server_hostname=host)


class HttpConnection:
    """One connection to one origin, reused while both sides keep it alive. Not thread-safe:
    give each thread its own. `timeout` is each request's total deadline in seconds (see the
    module's docstring). `tls` (a context of its own by default) is shared with other
    connections to reuse what it loaded."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        keep_alive: bool = True,
        use_env_proxy: bool = False,
        tls: TlsContext | None = None,
    ) -> None:
        self.origin = Origin.parse(url)
        self.timeout = timeout
        self.keep_alive = keep_alive
        self.proxy = env_proxy(self.origin) if use_env_proxy else None
        self.tls = tls or TlsContext()
        self._sock: socket.socket | None = None
        self._reader: BinaryIO | None = None
        self._raw: _DeadlineReader | None = None
        self._deadline = 0.0  # time.monotonic() at which the current request gives up

    def request(
        self, method: str, target: str, headers: dict[str, str], body: bytes | None = None
    ) -> Response:
        """Send one request (`target` is the path and query) and read the whole answer
        within `timeout` seconds; HttpError otherwise."""
        lines = [
            f"{method} {self._request_target(target)} HTTP/1.1",
            f"Host: {self.origin.authority}",
        ]
        if self.proxy is not None and self.origin.scheme == "http":
            lines += _proxy_auth(self.proxy)
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if any("\r" in line or "\n" in line for line in lines):
            raise HttpError(f"line break in the request line or a header of {method} {target}")
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        if not self.keep_alive:
            lines.append("Connection: close")
        try:
            data = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
            self._deadline = time.monotonic() + self.timeout
            sock, reader = self._connected()
            sock.settimeout(_remaining(self._deadline))  # sendall's timeout is for all of it
            sock.sendall(data)
            response, reusable = _read_response(reader, method)
            # bytes past the answer (a Content-Length short of what was sent) would be read
            # as the next request's answer: such a connection is not used again
            reusable = reusable and reader.tell() == self._received()
        except (OSError, ValueError, HttpError) as err:
            self.close()
            raise HttpError(f"{method} {self.origin.authority}{target}: {err!r}") from err
        if not (reusable and self.keep_alive):
            self.close()
        return response

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
        if self._sock is not None:
            self._sock.close()
        self._sock = self._reader = self._raw = None

    def _request_target(self, target: str) -> str:
        if self.proxy is not None and self.origin.scheme == "http":
            return f"http://{self.origin.authority}{target}"  # absolute form through a proxy
        return target

    def _connected(self) -> tuple[socket.socket, BinaryIO]:
        if self._sock is not None and self._reader is not None and not _peer_closed(self._sock):
            return self._sock, self._reader
        self.close()
        hop = self.proxy or self.origin
        sock = _connect(hop.host, hop.port, self._deadline)
        try:
            if self.origin.scheme == "https":
                if self.proxy is not None:
                    _open_tunnel(sock, self.origin, self.proxy, lambda: self._deadline)
                sock.settimeout(_remaining(self._deadline))  # ssl's handshake keeps one deadline
                sock = self.tls.wrap(sock, self.origin.host)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self._raw = _DeadlineReader(sock, lambda: self._deadline)
        self._reader = io.BufferedReader(self._raw)
        return self._sock, self._reader

    def _received(self) -> int:
        """Bytes read from the current connection's socket (`_DeadlineReader.tell`)."""
        return self._raw.tell() if self._raw is not None else 0


def _remaining(deadline: float) -> float:
    """Seconds left before `deadline` (a `time.monotonic()` value); TimeoutError when none."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("request deadline passed")
    return left


def _connect(host: str, port: int, deadline: float) -> socket.socket:
    """A TCP connection to the first of `host`'s addresses that takes it, the name lookup
    and every attempt within `deadline` (a `time.monotonic()` value). OSError (TimeoutError
    once the deadline passes) when none does."""
    error = OSError(f"no address for {host}")
    for family, kind, protocol, _name, address in _resolve(host, port, deadline):
        timeout = _remaining(deadline)
        sock = socket.socket(family, kind, protocol)
        try:
            sock.settimeout(timeout)
            sock.connect(address)
        except OSError as err:
            sock.close()
            error = err
            continue
        except BaseException:
            sock.close()
            raise
        return sock
    raise error


_AddressInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, Any]


def _resolve(host: str, port: int, deadline: float) -> Sequence[_AddressInfo]:
    """`host`'s stream addresses, looked up by the system's resolver on a thread of its own
    that the caller waits for until `deadline` at most (TimeoutError then): a resolver that
    hangs costs the request its deadline, not more. An address needs no lookup."""
    if _is_address(host):
        return socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    with _lookups_lock:
        lookup = _lookups.get((host, port))
        if lookup is None:
            lookup = _lookups[(host, port)] = _Lookup(host, port)
            lookup.start()
    if not lookup.done.wait(_remaining(deadline)):
        raise TimeoutError(f"looking up {host} outlasted the request deadline")
    if lookup.error is not None:
        raise lookup.error
    return lookup.addresses


def _is_address(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return True
    return False


class _Lookup:
    """One `getaddrinfo` on a daemon thread. Requests for the same name while it runs share
    it, so a resolver that hangs holds one thread per name, not one per request; it is
    forgotten once done, so the next connection looks the name up anew."""

    def __init__(self, host: str, port: int) -> None:
        self.key = (host, port)
        self.done = threading.Event()
        self.addresses: Sequence[_AddressInfo] = ()
        self.error: OSError | None = None

    def start(self) -> None:
        threading.Thread(target=self._run, name="resolve", daemon=True).start()

    def _run(self) -> None:
        try:
            self.addresses = socket.getaddrinfo(*self.key, 0, socket.SOCK_STREAM)
        except OSError as err:
            self.error = err
        finally:
            with _lookups_lock:
                if _lookups.get(self.key) is self:
                    del _lookups[self.key]
            self.done.set()


_lookups: dict[tuple[str, int], _Lookup] = {}
_lookups_lock = threading.Lock()


class _DeadlineReader(io.RawIOBase):
    """A socket's reading side whose every read waits at most until the current request's
    deadline (`deadline()`, re-read per call since a kept-alive connection carries several
    requests), so the buffered reader over it cannot outlive the request however slowly the
    peer sends."""

    def __init__(self, sock: socket.socket, deadline: Callable[[], float]) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline
        self._received = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        self._sock.settimeout(_remaining(self._deadline()))
        count = self._sock.recv_into(buffer)
        self._received += count
        return count

    def tell(self) -> int:
        """Bytes received so far; the buffered reader over it answers `tell()` with the
        bytes it has handed out, so the two differ by the bytes it holds unread."""
        return self._received


def _peer_closed(sock: socket.socket) -> bool:
    """An idle keep-alive socket that is readable has been closed (or spoken on) by the
    server: it must not carry a new request."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _proxy_auth(proxy: Origin) -> list[str]:
    if not proxy.userinfo:
        return []
    token = base64.b64encode(proxy.userinfo.encode()).decode()
    return [f"Proxy-Authorization: Basic {token}"]


def _open_tunnel(
    sock: socket.socket, origin: Origin, proxy: Origin, deadline: Callable[[], float]
) -> None:
    target = f"{origin.host}:{origin.port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}", *_proxy_auth(proxy)]
    sock.settimeout(_remaining(deadline()))
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    reader = io.BufferedReader(_DeadlineReader(sock, deadline))
    try:
        _version, status, reason = _read_status(reader)
        _read_headers(reader)
    finally:
        reader.close()
    if not 200 <= status < 300:
        raise HttpError(f"proxy refused the tunnel to {target}: {status} {reason}")


def _read_response(reader: BinaryIO, method: str) -> tuple[Response, bool]:
    """The answer and whether the connection may carry another request."""
    version, status, reason = _read_status(reader)
    headers = _read_headers(reader)
    while 100 <= status < 200:  # interim answers carry no body
        version, status, reason = _read_status(reader)
        headers = _read_headers(reader)
    connection = headers.get("connection", "").lower()
    reusable = connection == "keep-alive" or (version == "HTTP/1.1" and connection != "close")
    if method == "HEAD" or status in (204, 304):
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body = _read_chunked(reader)
    elif "content-length" in headers:
        body = _read_exactly(reader, int(headers["content-length"]))
    else:
        body, reusable = reader.read(MAX_BODY + 1), False
        if len(body) > MAX_BODY:
            raise HttpError(f"answer body over {MAX_BODY} bytes")
    return Response(status, reason, headers, body), reusable


def _read_line(reader: BinaryIO) -> bytes:
    line = reader.readline(MAX_LINE + 1)
    if not line:
        raise HttpError("connection closed by the server")
    if len(line) > MAX_LINE:
        raise HttpError("answer line too long")
    return line.rstrip(b"\r\n")


def _read_status(reader: BinaryIO) -> tuple[str, int, str]:
    version, _, rest = _read_line(reader).decode("latin-1").partition(" ")
    code, _, reason = rest.partition(" ")
    if not version.startswith("HTTP/1.") or not code.isdigit():
        raise HttpError(f"not an HTTP/1.x status line: {version} {rest}"[:200])
    return version, int(code), reason


def _read_headers(reader: BinaryIO) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS):
        line = _read_line(reader)
        if not line:
            return headers
        name, colon, value = line.decode("latin-1").partition(":")
        if not colon:
            raise HttpError(f"malformed header line: {line[:100]!r}")
        headers[name.strip().lower()] = value.strip()
    raise HttpError(f"more than {MAX_HEADERS} header lines")


def _read_exactly(reader: BinaryIO, length: int, already: int = 0) -> bytes:
    """`length` bytes of a body of which `already` were read; HttpError past `MAX_BODY`."""
    if not 0 <= length <= MAX_BODY - already:
        raise HttpError(f"answer body of {already + length} bytes (at most {MAX_BODY})")
    data = reader.read(length)
    if len(data) < length:
        raise HttpError(f"body cut short: {len(data)} of {length} bytes")
    return data


def _read_chunked(reader: BinaryIO) -> bytes:
    chunks: list[bytes] = []
    received = 0
    while True:
        size = int(_read_line(reader).split(b";")[0], 16)
        if size == 0:
            _read_headers(reader)  # trailers
            return b"".join(chunks)
        chunks.append(_read_exactly(reader, size, received))
        received += size
        _read_line(reader)
