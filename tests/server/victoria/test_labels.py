"""The mapping of points onto VictoriaMetrics samples and selectors."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from sabamon.server.store.records import Point
from sabamon.server.victoria.labels import (
    encode_points,
    name_regex,
    point_second,
    selector,
    stored_millis,
    write_slot,
)

T = 1_700_006_400


def test_points_are_prometheus_text_lines_with_readable_dotted_names() -> None:
    body = encode_points("org1", "host", [Point("h1", "custom.foo-1.bar_2", T, 0.25)], T + 5)
    assert (
        body == f'custom.foo-1.bar_2{{org="org1",host="h1"}} 0.25 {(T - 1) * 1000 + 6}\n'.encode()
    )


def test_label_values_are_escaped() -> None:
    body = encode_points('o"\\', "service", [Point("a\nb", "m", T, 1.0)], T)
    assert body.startswith(b'm{org="o\\"\\\\",service="a\\nb"} 1.0 ')


@given(at=st.integers(0, 2**34), age=st.integers(-90000, 90000))
def test_a_stored_sample_stays_inside_its_second_and_reads_back_as_it(at: int, age: int) -> None:
    millis = stored_millis(at, at + age)
    assert (at - 1) * 1000 < millis <= at * 1000
    assert point_second(millis) == at


@given(st.lists(st.integers(-90000, 90000), min_size=2, max_size=2))
def test_a_later_write_never_gets_an_earlier_slot(ages: list[int]) -> None:
    first, later = sorted(ages)
    assert write_slot(first) <= write_slot(later)


def test_slots_are_per_second_for_ten_minutes_then_coarser_up_to_two_days() -> None:
    assert [write_slot(a) for a in (-5, 0, 1, 2, 600)] == [0, 0, 1, 2, 600]
    assert 600 < write_slot(601) < write_slot(3600) < write_slot(86400) <= 999
    assert write_slot(2 * 86400) == 999


def test_a_wildcard_matches_one_segment() -> None:
    pattern = re.compile(name_regex("filesystem.*.used"))
    assert pattern.fullmatch("filesystem.sda1.used")
    assert not pattern.fullmatch("filesystem.a.b.used")
    assert not pattern.fullmatch("filesystemXsda1Xused")


def test_selectors_scope_by_org_kind_names_and_owners() -> None:
    assert selector("o", "host", ["loadavg5"], ["h1"]) == (
        '{__name__="loadavg5",org="o",host="h1"}'
    )
    assert selector("o", "service", ["a", "b.*"]) == (
        '{__name__=~"a|b\\\\.[^.]+",org="o",service!=""}'
    )
    assert selector("o", "host", owners=["h1", "h2"]) == '{org="o",host=~"h1|h2"}'
