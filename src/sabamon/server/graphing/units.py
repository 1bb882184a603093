"""Units of metrics, values written in them, and round axis ticks.

The units are the graph-definition units of api.md §3 (`float`, `integer`, `percentage`,
`bytes`, `bytes/sec`, `iops`, `seconds`, `milliseconds`, `bits/sec`). Ticks fall on
1, 2 and 5 × 10ⁿ, and for byte units on binary steps (1, 2, 4, 8 … × 1024ⁿ), so an axis
reads 0 / 4 / 8 / 12 GiB rather than 4.7 / 9.3 / 14.0 GiB.
"""

from __future__ import annotations

import math

BINARY_UNITS = {
    "bytes": ("B", "KiB", "MiB", "GiB", "TiB", "PiB"),
    "bytes/sec": ("B/s", "KiB/s", "MiB/s", "GiB/s", "TiB/s", "PiB/s"),
}
DECIMAL_UNITS = {
    "bits/sec": ("bit/s", "kbit/s", "Mbit/s", "Gbit/s", "Tbit/s"),
    "integer": ("", "k", "M", "G", "T"),
    "float": ("", "k", "M", "G", "T"),
}
SUFFIX = {"percentage": " %", "iops": " iops", "seconds": " s", "milliseconds": " ms"}


def unit_of_metric(name: str) -> str:
    """The unit of an agent metric (agent spec §4) or a monitor's computed metric;
    `float` for anything else."""
    parts = name.split(".")
    if name.endswith("%") or (parts[0] == "cpu" and parts[-1] == "percentage"):
        return "percentage"
    if parts[0] == "memory" or (parts[0] == "filesystem" and parts[-1] in ("used", "size")):
        return "bytes"
    if parts[0] == "interface" and parts[-1] == "delta":
        return "bytes/sec"
    if parts[0] == "disk" and parts[-1] == "delta":
        return "iops"
    return "float"


def _scaled(value: float, base: int, names: tuple[str, ...], digits: int) -> str:
    index, magnitude = 0, abs(value)
    while magnitude >= base and index < len(names) - 1:
        magnitude /= base
        index += 1
    shown = f"{math.copysign(magnitude, value):.{digits if index or digits else 0}f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return f"{shown} {names[index]}".rstrip()


def format_value(unit: str, value: float | None) -> str:
    """`value` written in `unit`: `488.3 KiB/s`, `42.5 %`, `1.113`; `—` for None."""
    if value is None or math.isnan(value):
        return "—"
    if unit in BINARY_UNITS:
        return _scaled(value, 1024, BINARY_UNITS[unit], 1)
    if unit in SUFFIX:
        return f"{value:.4g}{SUFFIX[unit]}"
    if unit == "integer" or abs(value) >= 1000:
        return _scaled(value, 1000, DECIMAL_UNITS.get(unit, DECIMAL_UNITS["float"]), 2)
    return f"{value:.4g}"


def tick_step(span: float, unit: str, count: int = 5) -> float:
    """The smallest round step that cuts `span` into at most `count` parts."""
    raw = span / max(count, 1) if span > 0 else 1.0
    if unit in BINARY_UNITS and raw >= 1:
        power = 1024 ** int(math.log(raw, 1024))
        step = 1.0
        while step * power < raw:
            step *= 2
        return step * power
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def nice_ticks(low: float, high: float, unit: str, count: int = 5) -> list[float]:
    """Round ticks covering [low, high], first ≤ low and last ≥ high."""
    if high <= low:
        high = low + (abs(low) or 1.0)
    step = tick_step(high - low, unit, count)
    first = math.floor(low / step) * step
    ticks = [first]
    while ticks[-1] < high - step * 1e-9:
        ticks.append(first + len(ticks) * step)
    return ticks
