"""The agent's socket HTTP/1.1 client against real loopback peers: keep-alive reuse, a
server-closed idle connection, body framings, timeouts, proxies, TLS, and the import cost."""

from __future__ import annotations

import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fault_server import FaultServer

from sabamon.agent.api import AgentApi, ApiError, retry_after_seconds
from sabamon.agent.http11 import HttpConnection, HttpError, _peer_closed
from sabamon.agent.loop import LoopTimings, MetricPoster, PostState, Shutdown
from sabamon.agent.spool import BatchKind, Spool


class RawPeer:
    """A loopback TCP peer that answers each request with `reply(request_bytes)` bytes (None
    closes the connection) and records which connection carried each request."""

    def __init__(self, reply: Callable[[bytes], bytes | None], wrap: ssl.SSLContext | None = None):
        self.reply = reply
        self.wrap = wrap
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.requests: list[tuple[int, bytes]] = []  # (connection number, request head)
        self.connections = 0
        self.close_after_answer = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        scheme = "https" if self.wrap else "http"
        return f"{scheme}://127.0.0.1:{self.listener.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        try:
            if self.wrap is not None:
                conn = self.wrap.wrap_socket(conn, server_side=True)
            reader = conn.makefile("rb")
            while True:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                lines = head.lower().split(b"\r\n")
                length = [int(h[15:]) for h in lines if h.startswith(b"content-length:")]
                head += reader.read(length[0]) if length else b""
                self.requests.append((number, head))
                answer = self.reply(head)
                if answer is None:
                    return
                conn.sendall(answer)
                if self.close_after_answer:
                    return
        except (OSError, ssl.SSLError):
            return
        finally:
            conn.close()

    def close(self) -> None:
        self.listener.close()


def ok(body: bytes = b'{"ok":true}', extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


@pytest.fixture
def peer_factory() -> Iterator[Callable[..., RawPeer]]:
    peers: list[RawPeer] = []

    def make(reply: Callable[[bytes], bytes | None], wrap: ssl.SSLContext | None = None) -> RawPeer:
        peers.append(RawPeer(reply, wrap))
        return peers[-1]

    yield make
    for peer in peers:
        peer.close()


def test_keep_alive_reuses_one_connection(peer_factory: Callable[..., RawPeer]) -> None:
    peer = peer_factory(lambda head: ok())
    api = AgentApi(peer.url, "key")
    for _ in range(3):
        api.post_metric_values([{"hostId": "h", "name": "x", "time": 60, "value": 1.0}])
    api.close()
    assert [number for number, _ in peer.requests] == [1, 1, 1]


def test_idle_connection_closed_by_the_server_is_replaced(
    peer_factory: Callable[..., RawPeer],
) -> None:
    peer = peer_factory(lambda head: ok())
    peer.close_after_answer = True  # as uvicorn's keep-alive timeout does to an idle client
    connection = HttpConnection(peer.url, timeout=5)
    assert connection.request("GET", "/a", {}).status == 200
    assert _wait(lambda: connection._sock is not None and _peer_closed(connection._sock))
    assert connection.request("GET", "/b", {}).status == 200
    assert [number for number, _ in peer.requests] == [1, 2]  # sent once, on a new connection
    connection.close()


def test_bytes_past_an_answer_are_never_read_as_the_next_answer(
    peer_factory: Callable[..., RawPeer],
) -> None:
    """A Content-Length short of the bytes sent leaves the rest unread: the next request
    goes on a new connection and gets its own answer, not the leftover."""
    leftover = ok(b'"not yours"')
    peer = peer_factory(lambda head: ok(b"{}") + leftover if b"/a " in head else ok(b'"b"'))
    connection = HttpConnection(peer.url, timeout=5)
    assert connection.request("GET", "/a", {}).body == b"{}"
    assert connection.request("GET", "/b", {}).body == b'"b"'
    assert [number for number, _ in peer.requests] == [1, 2]
    assert connection.request("GET", "/c", {}).body == b'"b"'
    assert [number for number, _ in peer.requests] == [1, 2, 2]  # a clean answer keeps it
    connection.close()


def _wait(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    event = threading.Event()
    for _ in range(int(timeout / 0.02)):
        if condition():
            return True
        event.wait(0.02)
    return False


@pytest.mark.parametrize(
    "answer",
    [
        b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n3\r\n:1}\r\n0\r\n\r\n',
        b'HTTP/1.0 200 OK\r\n\r\n{"a":1}',
        b'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{"a":1}',
    ],
    ids=["chunked", "close-delimited", "interim-100"],
)
def test_body_framings(peer_factory: Callable[..., RawPeer], answer: bytes) -> None:
    peer = peer_factory(lambda head: answer)
    peer.close_after_answer = True  # ends the close-delimited body
    api = AgentApi(peer.url, "key")
    assert api.request("GET", "/x") == {"a": 1}
    api.close()


def test_headers_and_body_on_the_wire(peer_factory: Callable[..., RawPeer]) -> None:
    peer = peer_factory(lambda head: ok())
    api = AgentApi(peer.url + "/prefix/", "secret")
    api.retire_host("h/1")
    _, head = peer.requests[0]
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /prefix/api/v0/hosts/h%2F1/retire HTTP/1.1"
    assert b"X-Api-Key: secret" in lines and b"Content-Type: application/json" in lines
    assert any(line.startswith(b"User-Agent: sabamon-agent/") for line in lines)
    assert head.endswith(b"Content-Length: 4\r\n\r\nnull")
    api.close()


def test_errors_are_classified(peer_factory: Callable[..., RawPeer]) -> None:
    silent = peer_factory(lambda head: b"")  # reads the request, never answers
    garbage = peer_factory(lambda head: b"SSH-2.0-OpenSSH\r\n\r\n")
    redirect = peer_factory(lambda head: b"HTTP/1.1 303 See Other\r\nContent-Length: 0\r\n\r\n")
    refused = socket.create_server(("127.0.0.1", 0))
    refused_url = f"http://127.0.0.1:{refused.getsockname()[1]}"
    refused.close()
    for url in (silent.url, garbage.url, redirect.url, refused_url):
        with AgentApi(url, "k", timeout=0.3) as api, pytest.raises(ApiError) as caught:
            api.request("GET", "/x")
        assert caught.value.status is None, url
    busy = b'{"error":{"message":"too busy"}}'
    throttled = peer_factory(
        lambda head: ok(busy, "Retry-After: 7\r\n").replace(b"200 OK", b"503 Busy")
    )
    with AgentApi(throttled.url, "k") as api, pytest.raises(ApiError) as caught:
        api.request("POST", "/api/v0/tsdb", [])
    assert (caught.value.status, caught.value.retry_after) == (503, 7.0)
    assert "too busy" in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFF\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"800000\r\n" + b"x" * 0x800000 + b"\r\n" + b"800001\r\n",
        b"HTTP/1.0 200 OK\r\n\r\n" + b"x" * (17 * 1024 * 1024),
    ],
    ids=["content-length 1 TB", "negative length", "chunk of 1 TB", "chunks past 16 MiB",
         "close-delimited past 16 MiB"],
)  # fmt: skip
def test_an_answer_body_over_16_mib_is_an_error_before_it_is_allocated(
    peer_factory: Callable[..., RawPeer], answer: bytes
) -> None:
    peer = peer_factory(lambda head: answer)
    peer.close_after_answer = True
    with AgentApi(peer.url, "k", timeout=5) as api, pytest.raises(ApiError) as caught:
        api.request("GET", "/x")
    assert caught.value.status is None
    assert "16777216" in str(caught.value), caught.value


def test_retry_after_http_date() -> None:
    now = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT
    assert retry_after_seconds("Sun, 06 Nov 1994 08:50:07 GMT", now) == 30.0
    assert retry_after_seconds("Sun, 06 Nov 1994 08:00:00 GMT", now) == 0.0
    assert retry_after_seconds("120", now) == 120.0
    assert retry_after_seconds("soon", now) is None
    assert retry_after_seconds("Sun, 31 Feb 1994 08:00:00 GMT", now) is None


def test_http_proxy_from_the_environment(
    server: FaultServer, peer_factory: Callable[..., RawPeer], monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = peer_factory(lambda head: ok())
    monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("http://", "http://user:p%40ss@"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with AgentApi("http://api.example.invalid:8080", "k") as api:
        api.request("GET", "/api/v0/hosts/x")
    _, head = proxy.requests[0]
    assert head.startswith(b"GET http://api.example.invalid:8080/api/v0/hosts/x HTTP/1.1\r\n")
    assert b"Proxy-Authorization: Basic dXNlcjpwQHNz" in head  # user:p@ss
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    with AgentApi(server.url, "k") as api:
        api.request("GET", f"/api/v0/hosts/{server.host_id}")
    assert len(proxy.requests) == 1 and server.requests  # went direct


@pytest.fixture
def tls_peer(peer_factory: Callable[..., RawPeer], tmp_path: Path) -> tuple[RawPeer, Path]:
    """A peer answering 200 over TLS with a self-signed certificate for 127.0.0.1, and that
    certificate's file (made with the openssl CLI)."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return peer_factory(lambda head: ok(), wrap=context), cert


def test_https_with_a_trusted_certificate(
    tls_peer: tuple[RawPeer, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    peer, cert = tls_peer
    with AgentApi(peer.url, "k") as api, pytest.raises(ApiError) as caught:  # not trusted yet
        api.request("GET", "/x")
    assert caught.value.status is None
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    with AgentApi(peer.url, "k") as api:
        assert api.request("GET", "/x") == {"ok": True}
        assert api.request("GET", "/y") == {"ok": True}
    assert [number for number, _ in peer.requests][-2:] == [2, 2]  # kept alive over TLS


def test_a_clients_new_tls_connections_reuse_its_context(
    tls_peer: tuple[RawPeer, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CA store is loaded once per client, not per connection: after the first
    connection the trusted file is gone, and a new connection still trusts the peer."""
    peer, cert = tls_peer
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    api = AgentApi(peer.url, "k")
    assert api.request("GET", "/x") == {"ok": True}
    api.close()  # the next request opens a new connection
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "gone.pem"))
    assert api.request("GET", "/y") == {"ok": True}
    assert [number for number, _ in peer.requests][-2:] == [1, 2]  # two connections
    api.close()


def test_plain_http_path_does_not_load_openssl() -> None:
    code = (
        "import sys, sabamon.agent.run, sabamon.agent.cli; "
        "print(sorted(m for m in ('ssl', '_hashlib', 'httpx', 'http.client', 'email') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "[]", result.stderr


def test_bad_url_and_header_are_clear_errors() -> None:
    with pytest.raises(HttpError, match="not an http"):
        HttpConnection("ftp://example.invalid", timeout=1)
    bad_key = AgentApi("http://127.0.0.1:9", "key\r\nX-Evil: 1")
    with bad_key as api, pytest.raises(ApiError, match="line break"):
        api.request("GET", "/x")


class TricklePeer(RawPeer):
    """A loopback peer that answers every request with a 200 head announcing a 1 MB body,
    then sends that body one byte every 0.2 s until closed: each read gets a byte well within
    any per-read timeout, and the answer never ends."""

    def __init__(self) -> None:
        self.closed = threading.Event()
        super().__init__(lambda head: None)

    def _serve(self, conn: socket.socket, number: int) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
                while not self.closed.wait(0.2):
                    conn.sendall(b"x")
            except OSError:
                return

    def close(self) -> None:
        self.closed.set()
        super().close()


def test_a_trickling_answer_fails_at_the_deadline_and_the_batch_stays_spooled(
    tmp_path: Path,
) -> None:
    """A server sending a byte every 0.2 s never trips a per-read timeout; the call's total
    deadline (0.5 s here, 30 s by default) ends it as a network error, the poster retries once
    at once as after any network error, and the batch is still in the spool for the next post."""
    peer = TricklePeer()
    spool = Spool(tmp_path / "spool")
    spool.append(BatchKind.METRICS, [{"hostId": "h", "name": "x", "time": 60, "value": 1.0}])
    poster = MetricPoster(
        AgentApi(peer.url, "k", timeout=0.5), spool, LoopTimings(), 0, Shutdown(10)
    )
    started = time.monotonic()
    thread = threading.Thread(target=poster._post, args=(spool.oldest(BatchKind.METRICS, 2),))
    thread.start()
    thread.join(10)
    elapsed = time.monotonic() - started
    peer.close()  # ends the old code's endless read too
    thread.join(5)
    assert elapsed < 5, f"the post was still waiting after {elapsed:.1f} s"
    assert peer.connections == 2  # the request and its immediate network-error retry
    assert poster.state is PostState.HAD_ERROR
    assert [batch.body[0]["value"] for batch in spool.oldest(BatchKind.METRICS, 2)] == [1.0]
    spool.close()


NAME = "api.example.invalid"


def _post_within(url: str, timeout: float) -> tuple[float, BaseException | None]:
    """Post through a client with the `timeout` deadline on a thread; the seconds until it
    returned or raised (at most 5: then it is still waiting) and what it raised."""
    caught: list[BaseException] = []

    def post() -> None:
        try:
            AgentApi(url, "k", timeout=timeout).request("POST", "/api/v0/tsdb", [])
        except BaseException as err:
            caught.append(err)

    started = time.monotonic()
    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    thread.join(5)
    return time.monotonic() - started, caught[0] if caught else None


def test_a_name_lookup_that_hangs_fails_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The system resolver hangs for the API's name: the post fails at its deadline, and a
    second post while the lookup still hangs waits on the same lookup, not a new one."""
    released = threading.Event()
    lookups: list[str] = []
    real = socket.getaddrinfo

    def hanging(host: str, *args: object, **kwargs: object) -> object:
        if host != NAME:
            return real(host, *args, **kwargs)  # type: ignore[arg-type]
        lookups.append(host)
        released.wait()
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", hanging)
    try:
        for _ in range(2):
            elapsed, error = _post_within(f"https://{NAME}", timeout=0.5)
            assert isinstance(error, ApiError) and error.status is None
            assert "outlasted the request deadline" in str(error)
            assert 0.5 <= elapsed < 1.5
        assert lookups == [NAME]
    finally:
        released.set()


def test_a_connect_that_hangs_on_every_address_fails_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The API's name has two addresses, both of a loopback listener whose queue is full, so
    their connects hang: the deadline bounds the two attempts together, not each one."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    queued = socket.create_connection(listener.getsockname())  # fills the accept queue
    address = (socket.AF_INET, socket.SOCK_STREAM, 6, "", listener.getsockname())
    real = socket.getaddrinfo
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda host, *args: [address, address] if host == NAME else real(host, *args),
    )
    try:
        elapsed, error = _post_within(f"http://{NAME}", timeout=0.8)
    finally:
        queued.close()
        listener.close()
    assert isinstance(error, ApiError) and error.status is None
    assert 0.8 <= elapsed < 1.3


def test_a_tls_handshake_trickled_by_the_server_fails_at_the_deadline() -> None:
    """The server announces a 16 KiB handshake record and sends it a byte every 0.1 s: each
    read gets a byte, and the handshake still ends at the request's deadline."""
    listener = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def trickle() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)  # the ClientHello
            conn.sendall(b"\x16\x03\x03\x40\x00")
            while not done.wait(0.1):
                conn.sendall(b"\x02")

    threading.Thread(target=trickle, daemon=True).start()
    try:
        elapsed, error = _post_within(f"https://127.0.0.1:{listener.getsockname()[1]}", 0.5)
    finally:
        done.set()
        listener.close()
    assert isinstance(error, ApiError) and error.status is None
    assert 0.5 <= elapsed < 1.0
