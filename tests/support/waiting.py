"""Free loopback ports and polling for a condition with a deadline."""

from __future__ import annotations

import os
import random
import socket
import time
from collections.abc import Callable
from pathlib import Path

SERVER_START_TIMEOUT = 90.0
"""Seconds a server process may take to answer its first /healthz: its imports alone take
seconds of CPU, and the test workers share the cores."""
LOWEST_PORT = 10000
PICKS = 200


def _port_block() -> range | None:
    """This worker's share of the ports below the kernel's ephemeral range: no other
    pytest-xdist worker of this run, nor the local end of any connection, is given one of
    them between `free_port` and the bind of the server it was meant for. None where the
    ephemeral range leaves no room below it."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    size = (ephemeral_low - LOWEST_PORT) // max(1, workers)
    if size < PICKS:
        return None
    first = LOWEST_PORT + worker % workers * size
    return range(first, first + size)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a server about to start:
    a random one of this worker's block (another run on the machine picks from its own
    block at random too), else one the kernel chooses."""
    block = _port_block()
    for port in random.sample(block, PICKS) if block is not None else ():
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(
    condition: Callable[[], object], timeout: float = 20.0, what: str = "the condition"
) -> None:
    """Polls `condition` every 20 ms until it is true; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)
