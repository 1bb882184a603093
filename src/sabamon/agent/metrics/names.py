"""Metric-name sanitising shared by every collector."""

from __future__ import annotations

import re

_UNSAFE_CHARACTER = re.compile(r"[^A-Za-z0-9_-]")


def sanitize_name(name: str) -> str:
    """Replace every character outside `[A-Za-z0-9_-]` with one `_` per character (code
    point), so `abc*defあ.ggg` becomes `abc_def__ggg`."""
    return _UNSAFE_CHARACTER.sub("_", name)


METRIC_NAME = re.compile(r"[a-zA-Z0-9._-]+")
MAX_METRIC_NAME = 255
"""The API's rule for a metric name (spec/api.md §3): a point whose name breaks it is
refused, so the agent never sends one."""


def name_problem(name: str) -> str | None:
    """Why the API would refuse `name`, or None."""
    if len(name) > MAX_METRIC_NAME:
        return f"longer than {MAX_METRIC_NAME} characters"
    if METRIC_NAME.fullmatch(name) is None:
        return "characters outside [a-zA-Z0-9._-]"
    return None
