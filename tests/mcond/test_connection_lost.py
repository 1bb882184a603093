"""A peer that resets a keep-alive connection costs one debug line, on both listeners."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from sabamon.mcond.http_asyncio import AsyncBroadcastListener
from sabamon.mcond.http_threads import BroadcastListener

REQUEST = b"GET /cache/broadcast/k HTTP/1.1\r\nHost: x\r\n\r\n"


class Lines(logging.Handler):
    """Collects the records of one logger and lets a test wait for one."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.arrived = threading.Condition()

    def emit(self, record: logging.LogRecord) -> None:
        with self.arrived:
            self.records.append(record)
            self.arrived.notify_all()

    def lost(self, timeout: float = 5.0) -> list[logging.LogRecord]:
        """The connection-lost records, once there is one (or after `timeout`)."""

        def found() -> list[logging.LogRecord]:
            return [r for r in self.records if "connection_lost" in r.getMessage()]

        with self.arrived:
            self.arrived.wait_for(found, timeout)
            return found()


@pytest.fixture
def lines() -> Iterator[Lines]:
    handler = Lines()
    logger = logging.getLogger("sabamon.mcond")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def reset_after_one_request(port: int) -> bytes:
    """Sends a request, reads the answer, then closes with RST (SO_LINGER 0) while the
    listener waits for the next request on the kept-alive connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(REQUEST)
        answer = conn.recv(65536)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return answer


def test_threaded_listener_logs_a_reset_at_debug(
    lines: Lines, capfd: pytest.CaptureFixture[str]
) -> None:
    listener = BroadcastListener("127.0.0.1", 0, None, lambda key, relayed: None)
    thread = threading.Thread(target=listener.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        assert reset_after_one_request(listener.port).startswith(b"HTTP/1.1 200")
        records = lines.lost()
    finally:
        listener.shutdown()
        listener.server_close()
        thread.join(5)
    assert [r.levelno for r in records] == [logging.DEBUG]
    assert "ConnectionResetError" in records[0].getMessage()
    assert "Traceback" not in capfd.readouterr().err


async def test_asyncio_listener_logs_a_reset_at_debug(
    lines: Lines, capfd: pytest.CaptureFixture[str]
) -> None:
    listener = AsyncBroadcastListener(None, lambda key, relayed: None)
    port = await listener.start("127.0.0.1", 0)
    try:
        answer = await asyncio.to_thread(reset_after_one_request, port)
        assert answer.startswith(b"HTTP/1.1 200")
        records = await asyncio.to_thread(lines.lost)
    finally:
        await listener.close()
    assert [r.levelno for r in records] == [logging.DEBUG]
    assert "Traceback" not in capfd.readouterr().err
