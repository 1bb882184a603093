"""Free loopback ports and polling for a condition with a deadline."""

from __future__ import annotations

import itertools
import os
import random
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

PORTS_PER_WORKER = 400
"""Loopback ports each pytest-xdist worker hands out, from its own block."""
LOWEST_PORT = 10000


def _port_block() -> Iterator[int] | None:
    """This worker's ports, endlessly, from a random start: a block below the kernel's
    ephemeral range, so that neither another worker nor the local end of any connection
    is given a port between `free_port` and the bind of the server it was meant for.
    None where the ephemeral range leaves no room for the block."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    blocks = (ephemeral_low - LOWEST_PORT) // PORTS_PER_WORKER
    if blocks < 1:
        return None
    first = LOWEST_PORT + int(worker or 0) % blocks * PORTS_PER_WORKER
    start = random.randrange(PORTS_PER_WORKER)
    return (first + (start + n) % PORTS_PER_WORKER for n in itertools.count())


_ports = _port_block()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a server about to start."""
    for port in itertools.islice(_ports, PORTS_PER_WORKER) if _ports is not None else ():
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
