"""Reading the Prometheus text of /metrics the way a scraper does."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample, or None when the exposition does not have it."""
    return samples(text).get((name, frozenset(labels.items())))


def total(text: str, name: str, **labels: str) -> float:
    """The sum of a sample's values over the labels not given (0 when there are none)."""
    wanted = set(labels.items())
    return sum(
        value for (sample_name, sample_labels), value in samples(text).items()
        if sample_name == name and wanted <= sample_labels
    )  # fmt: skip
