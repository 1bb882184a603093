"""What the series store tells about its own upkeep, for the server's /metrics.

The store imports no telemetry library: whoever wants the figures sets
`SeriesStore.figures` to an object of this shape (`server/telemetry.py`'s `Telemetry` is
one); the default, `NO_FIGURES`, drops them.
"""

from __future__ import annotations

from typing import Protocol


class StoreFigures(Protocol):
    def sealed(self, seconds: float, points: int, chunks: int) -> None:
        """One sealing transaction took `seconds` (wall time, including the wait for the
        writer) and wrote `chunks` chunks holding `points` points."""


class NoFigures:
    """Drops every figure: a store with no one counting."""

    def sealed(self, seconds: float, points: int, chunks: int) -> None:
        return None


NO_FIGURES: StoreFigures = NoFigures()
