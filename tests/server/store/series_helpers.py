"""Helpers for tests of the series store."""

from __future__ import annotations

from sabamon.server.store.records import OwnerKind
from sabamon.server.store.series_store import SeriesStore

NOW = 1_700_006_400
"""The suite's present: a multiple of 86400, so buckets of every size start here."""


async def read_values(
    series: SeriesStore, org_id: str, kind: OwnerKind, owner: str, name: str, frm: int, to: int
) -> list[tuple[int, float]] | None:
    """The [(bucket, average)] of `read_points`, or None for an unknown series."""
    got = await series.read_points(org_id, kind, owner, name, frm, to)
    return None if got is None else got.points
