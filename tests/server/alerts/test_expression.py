"""The expression grammar and minute-by-minute aggregation."""

from __future__ import annotations

import pytest

from sabamon.server.alerts.expression import (
    Expression,
    ExpressionError,
    SeriesRef,
    combine,
    parse_expression,
)


def test_parses_role_and_group_forms() -> None:
    assert parse_expression('avg(roleSlots("web: app", "loadavg5"))') == Expression(
        "avg", (SeriesRef("roleSlots", "web:app", "loadavg5"),)
    )
    parsed = parse_expression("max(group(host('a', 'm'), service('svc', 'n')))")
    assert parsed.aggregate == "max"
    assert parsed.series == (SeriesRef("host", "a", "m"), SeriesRef("service", "svc", "n"))
    assert parse_expression("host('a','m')").aggregate is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("avg(roleSlots('web:app', 'x')", r"expected \) at the end"),
        ("roleSlots('web:app', 'x')", "need avg"),
        ("avg(foo('a', 'b'))", "expected roleSlots, host, service or group at position 4"),
        ("avg(roleSlots('web', 'x'))", "needs 'service:role'"),
        ("host('a','b') host('a','b')", "unexpected text"),
        ("avg(host('a', 'b')) ;", "unexpected character"),
    ],
)
def test_syntax_errors_say_where(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        parse_expression(text)


def test_combine_aggregates_per_minute() -> None:
    expr = parse_expression("sum(group(host('a','m'), host('b','m')))")
    assert combine(expr, [[(60, 1.0), (125, 2.0)], [(61, 10.0)]]) == [(60, 11.0), (120, 2.0)]
    avg = parse_expression("avg(group(host('a','m'), host('b','m')))")
    assert combine(avg, [[(60, 1.0)], [(60, 3.0)]]) == [(60, 2.0)]
