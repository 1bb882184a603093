"""What every metric source produces, system collectors and metric plugins alike."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Value:
    """One collected value. `time` is set only when the source carries its own timestamp
    (a plugin with `use_plugin_timestamp`); otherwise the tick's minute is used."""

    name: str
    value: float
    time: int | None = None


class MetricGenerator(Protocol):
    """One metric family. A delta collector returns per-second rates since its previous
    collection; on its first it samples, waits `interval` seconds on `stop` (returning early
    with what it has when `stop` is set) and samples again, so the first collection already
    carries full deltas (`metrics/delta.py`)."""

    @property
    def name(self) -> str: ...

    @property
    def custom_identifier(self) -> str | None:
        """The host these values belong to; None for the agent's own host."""

    def generate(self, interval: float, stop: threading.Event) -> list[Value]: ...
