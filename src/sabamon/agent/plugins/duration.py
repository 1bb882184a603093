"""Plugin intervals: integer minutes, a digit string ("10": minutes) or a Go duration
string ("1h30m"), whole minutes only, as mackerel-agent's `config/duration.go` reads them:
`strconv.ParseInt(text, 10, 32)` first, then `time.ParseDuration`."""

from __future__ import annotations

import re

from sabamon.agent.errors import ConfigError

_UNIT_NANOSECONDS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "μs": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_MINUTE_NS = _UNIT_NANOSECONDS["m"]
_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT32_MAX = 2**31 - 1


def _go_duration_nanoseconds(text: str) -> int:
    """Go's `time.ParseDuration` grammar: an optional sign, then number+unit parts."""
    body = text.lstrip("+-")
    sign = -1 if text.startswith("-") else 1
    if body == "0":
        return 0
    if not body:
        raise ValueError("empty duration")
    total = 0
    position = 0
    while position < len(body):
        match = _PART.match(body, position)
        if match is None:
            raise ValueError(f"invalid duration {text!r}")
        number, unit = match.groups()
        whole, _, fraction = number.partition(".")
        scale = _UNIT_NANOSECONDS[unit]
        total += int(whole or "0") * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
        position = match.end()
    return sign * total


def parse_minutes(value: object, key: str) -> int:
    """Minutes from an integer, a digit string or a Go duration string; negative or partial
    minutes are errors."""
    if isinstance(value, bool):
        raise ConfigError(key, 'must be minutes (an integer) or a duration string like "1h30m"')
    if isinstance(value, int):
        minutes = value
    elif isinstance(value, str) and _INTEGER.fullmatch(value) and abs(int(value)) <= _INT32_MAX:
        minutes = int(value)  # mackerel-agent reads a bare number as minutes
    elif isinstance(value, str):
        try:
            nanoseconds = _go_duration_nanoseconds(value.strip())
        except ValueError as exc:
            raise ConfigError(key, str(exc)) from None
        if nanoseconds % _MINUTE_NS:
            raise ConfigError(key, f"{value!r} is not a whole number of minutes")
        minutes = nanoseconds // _MINUTE_NS
    else:
        raise ConfigError(key, 'must be minutes (an integer) or a duration string like "1h30m"')
    if minutes < 0:
        raise ConfigError(key, f"must not be negative, got {value!r}")
    return minutes
