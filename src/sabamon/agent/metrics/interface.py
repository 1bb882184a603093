"""Network traffic per second from /proc/net/dev: `interface.<if>.rxBytes.delta` and
`interface.<if>.txBytes.delta`."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sabamon.agent.metrics.badlines import skip_line
from sabamon.agent.metrics.base import Value
from sabamon.agent.metrics.delta import DeltaSampler
from sabamon.agent.metrics.names import sanitize_name
from sabamon.agent.metrics.procfs import read_proc

_COUNTERS = 16  # 8 receive and 8 transmit columns
_RX_BYTES, _TX_BYTES = 0, 8

InterfaceCounts = dict[str, tuple[int, int]]


def parse_net_dev(text: str) -> InterfaceCounts:
    """`{interface: (rx_bytes, tx_bytes)}`, skipping the two header lines, `lo` and `veth*`.
    The name ends at the line's last `:` (an alias such as `ibr10:30:` keeps its colon, as
    node_exporter and psutil read it); a line without 16 integer counters is skipped and
    logged once."""
    counts: InterfaceCounts = {}
    for line in text.splitlines()[2:]:
        name, colon, rest = line.rpartition(":")
        name = name.strip()
        fields = rest.split()
        if not colon or not name or len(fields) < _COUNTERS:
            if line.strip():
                skip_line("/proc/net/dev", line, f"expected name: and {_COUNTERS} counters")
            continue
        if name == "lo" or name.startswith("veth"):
            continue
        try:
            counts[name] = (int(fields[_RX_BYTES]), int(fields[_TX_BYTES]))
        except ValueError:
            skip_line("/proc/net/dev", line, "counters are not integers")
    return counts


def interface_rates(
    prev: InterfaceCounts,
    cur: InterfaceCounts,
    seconds: float,
    ignore: re.Pattern[str] | None = None,
) -> list[Value]:
    """`(cur - prev) / seconds` bytes per second; a counter that went down (reset or wrap)
    is left out. `ignore` matches the sanitised interface name."""
    if seconds <= 0:
        return []
    values: list[Value] = []
    for interface, counters in cur.items():
        if interface not in prev:
            continue
        name = sanitize_name(interface)
        if ignore is not None and ignore.search(name):
            continue
        for direction, now, before in zip(("rx", "tx"), counters, prev[interface], strict=True):
            if now >= before:
                values.append(
                    Value(f"interface.{name}.{direction}Bytes.delta", (now - before) / seconds)
                )
    return values


class InterfaceCollector:
    """Emits `interface.<if>.rxBytes.delta` and `interface.<if>.txBytes.delta`."""

    name = "interface"
    custom_identifier: str | None = None

    def __init__(
        self,
        proc_root: Path = Path("/proc"),
        ignore: re.Pattern[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._path = proc_root / "net" / "dev"
        self._ignore = ignore
        self._clock = clock
        self._samples = DeltaSampler(self.read, clock)

    def read(self) -> InterfaceCounts:
        return parse_net_dev(read_proc(self._path))

    def generate(self, interval: float, stop: threading.Event) -> list[Value]:
        prev, cur, seconds = self._samples.pair(interval, stop)
        return interface_rates(prev, cur, seconds, self._ignore)
