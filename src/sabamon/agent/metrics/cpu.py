"""CPU time percentages from the first `cpu` line of /proc/stat, scaled by the CPU count.

Emits `cpu.{user,nice,system,idle}.percentage` always, then `cpu.iowait`, `cpu.irq`,
`cpu.softirq`, `cpu.steal`, `cpu.guest` (each `.percentage`) when the line has at least
5, 6, 7, 8, 9 fields. Each is 0..100 × the number of CPUs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sabamon.agent.metrics.badlines import skip_line
from sabamon.agent.metrics.base import Value
from sabamon.agent.metrics.delta import DeltaSampler
from sabamon.agent.metrics.procfs import read_proc

# Field positions on the `cpu` line, after the label.
USER, NICE, SYSTEM, IDLE, IOWAIT, IRQ, SOFTIRQ, STEAL, GUEST, GUEST_NICE = range(10)
_OPTIONAL = (("irq", IRQ), ("softirq", SOFTIRQ), ("steal", STEAL))


@dataclass(frozen=True, slots=True)
class CpuStat:
    """The aggregate `cpu` line's counters (in ticks) and the count of `cpuN` lines."""

    fields: tuple[int, ...]
    cpu_count: int

    @property
    def total(self) -> int:
        """All time except guest and guest_nice, which user and nice already include."""
        return sum(self.fields) - sum(self.fields[GUEST : GUEST_NICE + 1])


def parse_cpu_stat(text: str) -> CpuStat:
    fields: tuple[int, ...] | None = None
    cpu_count = 0
    for line in text.splitlines():
        if not line.startswith("cpu"):
            continue
        label, *numbers = line.split()
        if label == "cpu":
            try:
                fields = tuple(int(number) for number in numbers)
            except ValueError:
                skip_line("/proc/stat", line, "cpu times are not integers")
        elif label[3:].isdigit():
            cpu_count += 1
    if fields is None or len(fields) < 4:
        raise ValueError("/proc/stat: no `cpu` line with at least 4 fields")
    return CpuStat(fields, cpu_count)


def cpu_percentages(prev: CpuStat, cur: CpuStat) -> list[Value]:
    """`Δfield × ncpu × 100 / Δtotal` per field; user excludes guest; iowait is reset-safe
    (a counter that went down counts from zero). Empty when no time passed."""
    total_delta = cur.total - prev.total
    if total_delta <= 0:
        return []
    scale = cur.cpu_count * 100.0 / total_delta
    count = min(len(prev.fields), len(cur.fields))

    def change(index: int) -> int:
        return cur.fields[index] - prev.fields[index]

    guest = change(GUEST) if count > GUEST else 0
    values = [
        Value("cpu.user.percentage", (change(USER) - guest) * scale),
        Value("cpu.nice.percentage", change(NICE) * scale),
        Value("cpu.system.percentage", change(SYSTEM) * scale),
        Value("cpu.idle.percentage", change(IDLE) * scale),
    ]
    if count > IOWAIT:
        iowait_before, iowait_now = prev.fields[IOWAIT], cur.fields[IOWAIT]
        iowait = iowait_now if iowait_now < iowait_before else iowait_now - iowait_before
        values.append(Value("cpu.iowait.percentage", iowait * scale))
    for name, index in _OPTIONAL:
        if count > index:
            values.append(Value(f"cpu.{name}.percentage", change(index) * scale))
    if count > GUEST:
        values.append(Value("cpu.guest.percentage", guest * scale))
    return values


class CpuCollector:
    """Emits the `cpu.*.percentage` values above over one interval."""

    name = "cpu"
    custom_identifier: str | None = None

    def __init__(
        self, proc_root: Path = Path("/proc"), clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._path = proc_root / "stat"
        self._clock = clock
        self._samples = DeltaSampler(self.read, clock)

    def read(self) -> CpuStat:
        return parse_cpu_stat(read_proc(self._path))

    def generate(self, interval: float, stop: threading.Event) -> list[Value]:
        prev, cur, _ = self._samples.pair(interval, stop)
        return cpu_percentages(prev, cur)
