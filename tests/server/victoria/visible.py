"""The VictoriaMetrics series store as the shared series suite needs it: a write is
searchable when it returns.

VictoriaMetrics makes imported samples searchable within about a second (its in-memory
buffers are flushed every second); instead of waiting, the tests ask it to flush after
each write through `/internal/force_flush`, the handler it provides for tests.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sabamon.bench.victoria import VictoriaProcess
from sabamon.server.store.records import OwnerKind, Point, WriteResult
from sabamon.server.victoria.endpoints import single_node
from sabamon.server.victoria.store import VictoriaSeriesStore


class VisibleAtOnce(VictoriaSeriesStore):
    def __init__(self, victoria: VictoriaProcess, clock: Callable[[], float]) -> None:
        super().__init__(single_node(victoria.url), clock=clock)
        self.victoria = victoria

    async def write_points(
        self, org_id: str, kind: OwnerKind, points: Sequence[Point], now: int
    ) -> WriteResult:
        result = await super().write_points(org_id, kind, points, now)
        self.victoria.flush()
        return result
