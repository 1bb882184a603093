from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sabamon.agent.metrics.filesystem import DfEntry

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def sample() -> Callable[[str], str]:
    """The text of a recorded /proc (or df) sample."""
    return lambda name: (SAMPLES / name).read_text()


def parse_df_output(text: str) -> list[DfEntry]:
    """Rows of `df -Pkl` output (the first line is the header)."""
    entries = []
    for line in text.splitlines()[1:]:
        name, size, used, available, _capacity, mount = line.split(maxsplit=5)
        entries.append(DfEntry(name, int(size), int(used), int(available), mount))
    return entries


@pytest.fixture
def df_rows() -> Callable[[str], list[DfEntry]]:
    return parse_df_output
