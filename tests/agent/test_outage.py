"""An outage longer than 24 hours, with the injected clock: real plugin subprocesses (healthy,
garbage, flooding) collect into the spool while the server is unreachable; a real server
then takes the backlog. Every collected point the spool's bound did not evict is stored,
points older than 24 h included (the replay header); the evicted ones are counted."""

from __future__ import annotations

from pathlib import Path

from outage import START, simulate


def test_a_25_hour_outage_loses_only_what_the_spool_bound_evicted(tmp_path: Path) -> None:
    figures = simulate(
        25 * 60, tmp_path, step=30, spool_bytes=16 * 1024, flood_cap=100, progress=lambda _: None
    )
    assert figures.collected == 50 * (5 + 5 + 1 + 100)  # the garbage plugin's good line
    assert 0 < figures.evicted_points < figures.collected  # the bound was reached
    assert figures.missing == figures.evicted_points
    assert figures.dropped_by_plugins == 250


def test_the_oldest_surviving_points_are_older_than_24_hours(tmp_path: Path) -> None:
    figures = simulate(26 * 60, tmp_path, step=120, flood_cap=10, progress=lambda _: None)
    assert figures.evicted_points == 0
    assert figures.stored == figures.collected == 13 * (5 + 5 + 1 + 10)
    # the first collections were 26 h old when posted: stored through the replay header
    assert figures.stored_before(START + 60) == 5 + 5 + 1 + 10
