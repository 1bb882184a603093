"""Text from the field made storable, for every face of the server (API and dashboard)."""

from __future__ import annotations

import re
from typing import Any

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
"""Characters neither backend can keep: NUL (PostgreSQL text and jsonb refuse it) and lone
UTF-16 surrogates (no UTF-8 encoding exists for them)."""
REPLACEMENT = "\ufffd"


def sanitize(value: Any) -> Any:
    """A JSON value with every unstorable character replaced by U+FFFD in every string
    (keys included), so a text from the field (a check's output, a plugin's JSON) is kept
    rather than refused; the value itself when there is nothing to replace."""
    if isinstance(value, str):
        return UNSTORABLE.sub(REPLACEMENT, value) if UNSTORABLE.search(value) else value
    if isinstance(value, dict):
        return {sanitize(k): sanitize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sanitize(item) for item in value]
    return value
