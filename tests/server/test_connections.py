"""The HTTP front against slow and greedy clients, on a real `sabamon server` process:
a stalled body, slowloris connections, too many connections from one address, huge
headers — each costs only itself while good agents keep posting."""

from __future__ import annotations

import contextlib
import http.client
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.server import ServerProcess, running_server

pytestmark = pytest.mark.alone  # good posts' p99 latency while attacks run

GOOD_RATE = 100.0
"""Good posts per second while an attack runs."""


@pytest.fixture(scope="module", autouse=True)
def open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    options = ["--header-timeout", "2", "--body-timeout", "1", "--max-wait", "0.5"]
    options += ["--max-connections-per-address", "300"]
    with running_server(tmp_path / "data", *options) as running:
        yield running


def address_port(server: ServerProcess) -> tuple[str, int]:
    return "127.0.0.1", int(server.url.rsplit(":", 1)[1])


def connect_from(source: str, server: ServerProcess) -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(address_port(server))
    return sock


def read_response(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends until it closes the connection (or `timeout`)."""
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        pass
    return data


def good_posts(server: ServerProcess, seconds: float) -> tuple[int, int, float]:
    """Posts one host-minute at `GOOD_RATE` per second for `seconds`; returns (attempted,
    succeeded, p99 latency in seconds)."""
    with server.client() as http:
        host_id = http.post("/api/v0/hosts", json={"name": "good", "meta": {}}).json()["id"]
        attempted = succeeded = 0
        latencies: list[float] = []
        start = time.monotonic()
        while (now := time.monotonic()) - start < seconds:
            attempted += 1
            points = [{"hostId": host_id, "name": "good.m", "time": int(time.time()), "value": 1}]
            try:
                response = http.post("/api/v0/tsdb", json=points, timeout=5)
                succeeded += response.status_code == 200
            except httpx.TransportError:
                pass
            latencies.append(time.monotonic() - now)
            pause = start + attempted / GOOD_RATE - time.monotonic()
            if pause > 0:
                time.sleep(pause)  # pacing the load, not waiting for the server
    latencies.sort()
    return attempted, succeeded, latencies[int(len(latencies) * 0.99) - 1]


def test_a_stalled_body_costs_only_itself(server: ServerProcess) -> None:
    stalled = connect_from("127.0.0.1", server)
    stalled.sendall(
        b"POST /api/v0/hosts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n"
    )
    attempted, succeeded, p99 = good_posts(server, 3.0)
    assert succeeded == attempted, (attempted, succeeded)
    assert p99 < 1.0
    answer = read_response(stalled, 5)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"did not arrive within 1 s" in answer
    stalled.close()


def test_slowloris_connections_time_out_while_agents_keep_posting(server: ServerProcess) -> None:
    slow: list[socket.socket] = []
    for index in range(2000):  # 250 from each of 8 addresses, under the per-address cap
        sock = connect_from(f"127.0.0.{2 + index % 8}", server)
        sock.sendall(b"GET / HTTP/1.1\r\nX-a: ")
        slow.append(sock)
    opened = time.monotonic()
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    attempted, succeeded, p99 = good_posts(server, 3.0)
    assert succeeded == attempted, (attempted, succeeded)
    assert p99 < 1.0
    answers = [read_response(sock, max(0.1, opened + 6 - time.monotonic())) for sock in slow]
    timed_out = sum(answer.startswith(b"HTTP/1.1 408 ") for answer in answers)
    assert timed_out == len(slow)
    for sock in slow:
        sock.close()


def test_connections_beyond_the_per_address_cap_are_refused(server: ServerProcess) -> None:
    held = [connect_from("127.0.0.50", server) for _ in range(300)]
    for sock in held:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response_head(sock).startswith(b"HTTP/1.1 200 ")
    with connect_from("127.0.0.50", server) as extra:
        answer = read_response(extra, 5)
    assert answer.startswith(b"HTTP/1.1 503 ") and b"retry-after: 5" in answer, answer
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200  # other addresses
    held.pop().close()
    again = refused_until_open(server)
    assert again.startswith(b"HTTP/1.1 200 "), again
    for sock in held:
        sock.close()


def keep_alive_get(server: ServerProcess) -> http.client.HTTPConnection:
    """A keep-alive connection that has been answered one request and is now idle."""
    connection = http.client.HTTPConnection(*address_port(server), timeout=5)
    assert served_again(connection)
    return connection


def served_again(connection: http.client.HTTPConnection) -> bool:
    """Whether `connection` is answered 200 on the socket it already has (http.client
    opens one only when it has none)."""
    sock = connection.sock
    connection.request("GET", "/healthz")
    response = connection.getresponse()
    response.read()
    return response.status == 200 and (sock is None or connection.sock is sock)


def closed_by_server(connection: http.client.HTTPConnection) -> bool:
    """Whether the server closes `connection` within 5 s (its socket reads end of file)."""
    assert connection.sock is not None
    connection.sock.settimeout(5)
    try:
        return connection.sock.recv(1) == b""
    except TimeoutError:
        return False


def test_an_idle_keep_alive_connection_serves_the_next_request(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", "--idle-timeout", "2") as server:
        connection = keep_alive_get(server)
        time.sleep(1)  # the idle time under test: shorter than --idle-timeout
        assert served_again(connection)
        assert closed_by_server(connection)  # once idle past --idle-timeout
        connection.close()


def test_at_the_connection_cap_the_longest_idle_connection_makes_room(tmp_path: Path) -> None:
    options = ["--max-connections", "4", "--idle-timeout", "60"]  # only the cap closes one
    with running_server(tmp_path / "data", *options) as server:
        idle = [keep_alive_get(server) for _ in range(4)]
        newcomer = keep_alive_get(server)
        assert closed_by_server(idle[0])
        assert all(served_again(connection) for connection in idle[1:])
        for connection in [*idle, newcomer]:
            connection.close()


def test_at_the_connection_cap_with_none_idle_a_new_client_is_refused(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", "--max-connections", "4") as server:
        starting = [connect_from("127.0.0.1", server) for _ in range(4)]  # no request yet
        with connect_from("127.0.0.1", server) as extra:
            answer = read_response(extra, 5)
        assert answer.startswith(b"HTTP/1.1 503 ") and b"none idle" in answer, answer
        for sock in starting:
            sock.close()


def read_response_head(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    return data


def refused_until_open(server: ServerProcess) -> bytes:
    """A request from the capped address once the server has seen one of its connections
    close (the close reaches the server asynchronously)."""
    deadline = time.monotonic() + 5
    while True:
        sock = connect_from("127.0.0.50", server)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = read_response(sock, 5)
        sock.close()
        if not answer.startswith(b"HTTP/1.1 503 ") or time.monotonic() > deadline:
            return answer


def test_headers_over_the_size_limit_are_431(server: ServerProcess) -> None:
    sock = connect_from("127.0.0.1", server)
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"a" * 70_000)
    answer = read_response(sock, 5)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    sock.close()
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        (b"", [b"X-Filler: " + b"a" * 100_000]),
        (b"", [b"X-Filler-%d: %s" % (index, b"a" * 90) for index in range(1_000)]),
        (b"?q=" + b"a" * 100_000, []),
    ],
    ids=["one 100 KB field", "1,000 fields of 100 bytes", "a 100 KB target"],
)
def test_headers_over_the_size_limit_in_one_read_are_431(
    server: ServerProcess, query: bytes, fields: list[bytes]
) -> None:
    """The whole header block, and the body behind it, reach the server in one read."""
    body = b'{"name": "oversized", "meta": {}}'
    head = b"POST /api/v0/hosts%s HTTP/1.1\r\nHost: x\r\nX-Api-Key: " % query
    head += server.apikey.encode()
    head += b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    sock = connect_from("127.0.0.1", server)
    sock.sendall(head + b"".join(field + b"\r\n" for field in fields) + b"\r\n" + body)
    answer = read_response(sock, 5)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]
    assert b"request headers are too large" in answer
    with server.client() as http:
        assert http.get("/api/v0/hosts").json()["hosts"] == []  # the request never ran


def test_a_refused_client_still_sending_reads_its_431_before_the_close(
    server: ServerProcess,
) -> None:
    """Oversized headers, then a large body that is still arriving when the server refuses:
    the server drops the rest while the client sends it (a lingering close), so the client
    reads the 431 and then the end of the connection, never a reset."""
    head = b"POST /api/v0/hosts HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n"
    head += b"X-Filler: " + b"a" * 100_000 + b"\r\n\r\n"
    for _ in range(3):
        with contextlib.closing(connect_from("127.0.0.1", server)) as sock:
            sock.sendall(head)
            sent = 0
            with contextlib.suppress(ConnectionError):
                while sent < 900_000:  # below the server's linger limit (LINGER_BYTES)
                    sent += sock.send(b"b" * 65536)
            answer = read_response(sock, 5)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:100]


def test_headers_just_under_the_size_limit_are_served(server: ServerProcess) -> None:
    sock = connect_from("127.0.0.1", server)
    filler = b"X-Filler: " + b"a" * (64 * 1024 - 200) + b"\r\n"
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + filler + b"\r\n")
    answer = read_response(sock, 5)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:100]


def test_a_flood_of_pipelined_requests_is_cut_off(server: ServerProcess) -> None:
    """Requests sent ahead of their answers wait parsed in memory: past 32 waiting on one
    connection it is refused (429) and closed; a few pipelined requests are all answered."""
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    few = connect_from("127.0.0.1", server)
    few.sendall(request * 8)
    answers = b""
    few.settimeout(5)
    while answers.count(b"HTTP/1.1 200 ") < 8:
        answers += few.recv(65536)
    few.close()
    flood = connect_from("127.0.0.1", server)
    flood.sendall(request * 5000)
    answer = b""
    with contextlib.suppress(ConnectionResetError):  # closed with requests still unread
        answer = read_response(flood, 5)
    flood.close()
    assert answer.count(b"HTTP/1.1 200 ") <= 33
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200
    log = server.log()
    assert "reason=pipelined" in log
    assert (
        "Traceback" not in log
    )  # the answer in progress is dropped, not written to a closed socket


def test_at_the_connection_cap_a_stalled_connection_goes_before_an_idle_agent(
    tmp_path: Path,
) -> None:
    """Connections that send nothing (or trickle) must not fill the cap and push out the
    agents' keep-alive connections: the oldest stalled one makes room for a new client."""
    options = ["--max-connections", "4", "--idle-timeout", "60", "--header-timeout", "30"]
    with running_server(tmp_path / "data", *options) as server:
        agent = keep_alive_get(server)
        stalled = [connect_from("127.0.0.1", server) for _ in range(3)]  # no request
        time.sleep(1.2)  # the quantity under test: stalled for over a second
        newcomer = keep_alive_get(server)
        assert read_response(stalled[0], 5).startswith(b"HTTP/1.1 408 ")
        assert served_again(agent)
        for connection in (agent, newcomer):
            connection.close()
        for sock in stalled:
            sock.close()
