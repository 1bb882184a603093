"""Expression monitors: a small grammar over host and service series.

Grammar (whitespace is free, strings are double- or single-quoted)::

    expression  := aggregate | series
    aggregate   := ("avg" | "max" | "min" | "sum") "(" series_list ")"
    series_list := series ("," series)*
    series      := "roleSlots" "(" STRING "," STRING ")"   # every host of "service:role"
                 | "host"      "(" STRING "," STRING ")"   # one host id, one metric
                 | "service"   "(" STRING "," STRING ")"   # a service metric
                 | "group"     "(" series_list ")"         # several series as one list

Examples: `avg(roleSlots("web:app", "loadavg5"))`,
`max(group(host("2cSZzK3XfmG", "loadavg5"), host("3xYkPq7LmNa", "loadavg5")))`.

An aggregate combines the series minute by minute (over the points present in that
minute); a bare series must be a single one (`host` or `service`). The monitor's value
is the newest combined point within `evaluateBackwardMinutes`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "avg": lambda values: sum(values) / len(values),
    "max": max,
    "min": min,
    "sum": sum,
}
SERIES_FUNCTIONS = ("roleSlots", "host", "service")

_TOKEN = re.compile(r"""\s*(?:(?P<name>[A-Za-z]+)|(?P<string>"[^"]*"|'[^']*')|(?P<punct>[(),]))""")


class ExpressionError(ValueError):
    """A syntax error; the message gives the position."""


@dataclass(frozen=True)
class SeriesRef:
    """`kind` is "roleSlots", "host" or "service"; `owner` the role fullname, host id or
    service name."""

    kind: str
    owner: str
    metric: str


@dataclass(frozen=True)
class Expression:
    aggregate: str | None  # None: a single series
    series: tuple[SeriesRef, ...]


def _tokens(text: str) -> list[tuple[str, str, int]]:
    tokens, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ExpressionError(f"unexpected character at position {pos}: {text[pos]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        tokens.append((kind, value[1:-1] if kind == "string" else value, match.start(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> tuple[str, str, int]:
        if self.index < len(self.tokens):
            return self.tokens[self.index]
        return ("end", "", -1)

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token[0] != kind or (value is not None and token[1] != value):
            where = "at the end" if token[0] == "end" else f"at position {token[2]}"
            raise ExpressionError(f"expected {value or kind} {where}")
        self.index += 1
        return token[1]

    def expression(self) -> Expression:
        name = self.peek()[1]
        if name in AGGREGATES:
            self.take("name")
            self.take("punct", "(")
            series = self.series_list()
            self.take("punct", ")")
            result = Expression(name, tuple(series))
        else:
            series = self.series()
            if len(series) != 1 or series[0].kind == "roleSlots":
                raise ExpressionError("several series need avg, max, min or sum around them")
            result = Expression(None, tuple(series))
        if self.peek()[0] != "end":
            raise ExpressionError(f"unexpected text at position {self.peek()[2]}")
        return result

    def series_list(self) -> list[SeriesRef]:
        series = self.series()
        while self.peek()[1] == ",":
            self.take("punct", ",")
            series += self.series()
        return series

    def series(self) -> list[SeriesRef]:
        token = self.peek()
        if token[0] != "name" or token[1] not in (*SERIES_FUNCTIONS, "group"):
            where = "at the end" if token[0] == "end" else f"at position {token[2]}"
            raise ExpressionError(f"expected roleSlots, host, service or group {where}")
        self.take("name")
        self.take("punct", "(")
        if token[1] == "group":
            series = self.series_list()
        else:
            owner = self.take("string")
            self.take("punct", ",")
            metric = self.take("string")
            if token[1] == "roleSlots" and ":" not in owner:
                raise ExpressionError(f"roleSlots needs 'service:role', got {owner!r}")
            series = [SeriesRef(token[1], owner.replace(" ", ""), metric)]
        self.take("punct", ")")
        return series


def parse_expression(text: str) -> Expression:
    return _Parser(text).expression()


def combine(
    expression: Expression, series: Sequence[Sequence[tuple[int, float]]]
) -> list[tuple[int, float]]:
    """The expression's series, minute by minute, ascending."""
    by_minute: dict[int, list[float]] = defaultdict(list)
    for points in series:
        for time, value in points:
            by_minute[time - time % 60].append(value)
    if expression.aggregate is None:
        return [(minute, values[-1]) for minute, values in sorted(by_minute.items())]
    aggregate = AGGREGATES[expression.aggregate]
    return [(minute, aggregate(values)) for minute, values in sorted(by_minute.items())]
