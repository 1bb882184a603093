"""Metric-name sanitising shared by every collector."""

from __future__ import annotations

import re

_UNSAFE_CHARACTER = re.compile(r"[^A-Za-z0-9_-]")


def sanitize_name(name: str) -> str:
    """Replace every character outside `[A-Za-z0-9_-]` with one `_` per character (code
    point), so `abc*defあ.ggg` becomes `abc_def__ggg`."""
    return _UNSAFE_CHARACTER.sub("_", name)
