"""Step figures from records: percentiles, errors by status, warm-up left out."""

from __future__ import annotations

from sabamon.bench.results import ProcessFigures, StepResult, Thresholds, percentile, summarise
from sabamon.bench.shard import CHECKS, METRICS, TIMEOUT, Record

GENERATOR = ProcessFigures(processes=1, cpu_seconds=0.1, cpu_percent=1.0)


def step(records: list[Record], warmup: float = 0.0, unsent: int = 0) -> StepResult:
    return summarise(
        records,
        hosts=2,
        metrics=10,
        duration=4.0,
        time_scale=1.0,
        unsent=unsent,
        acknowledged_minutes=len(records),
        thresholds=Thresholds(max_p99=1.0, max_error_rate=0.001),
        server=None,
        generator=GENERATOR,
        warmup=warmup,
    )


def test_nearest_rank_percentiles() -> None:
    ordered = [float(value) for value in range(1, 101)]
    assert percentile(ordered, 0.5) == 50.0
    assert percentile(ordered, 0.99) == 99.0
    assert percentile([], 0.99) == 0.0


def test_slow_warm_up_is_left_out_of_the_figures_but_kept_in_the_timeline() -> None:
    records: list[Record] = [(0.5, 5.0, 200, METRICS)] * 3 + [(2.0, 0.01, 200, METRICS)] * 6
    assert not step(records).carried
    warmed = step(records, warmup=1.0)
    assert warmed.carried and warmed.requests == 6 and warmed.latency["p99"] == 0.01
    assert warmed.throughput == 6 / 3.0
    assert [row["requests"] for row in warmed.timeline] == [3.0, 0.0, 6.0, 0.0]


def test_errors_by_status_with_503_apart_and_unsent_minutes_count() -> None:
    records: list[Record] = [(1.0, 0.01, 200, METRICS)] * 996 + [
        (1.0, 0.002, 503, METRICS),
        (1.0, 30.0, TIMEOUT, METRICS),
        (1.0, 0.01, 200, CHECKS),
        (1.0, 0.01, 500, CHECKS),
    ]
    result = step(records, unsent=2)
    assert result.errors == {
        "network": 0,
        "timeout": 1,
        "400": 0,
        "413": 0,
        "429": 0,
        "500": 1,
        "503": 1,
    }  # every class, with zeros: runs compare key by key
    assert result.shed == 1 and result.check_requests == 2
    assert result.error_rate == 5 / 1002
    assert not result.carried
