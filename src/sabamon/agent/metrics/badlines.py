"""Lines a /proc or /sys parser cannot read: skipped, never costing the other lines, and
logged once per (source, line) so a line that stays bad does not flood the log each minute."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

MAX_REMEMBERED = 1024
"""Distinct bad lines remembered; past this the memory is cleared and they log again."""

_seen: set[tuple[str, str]] = set()
_lock = threading.Lock()


def skip_line(source: str, line: str, reason: str) -> None:
    """Note that `line` of `source` (e.g. "/proc/net/dev") was skipped because of `reason`;
    a WARNING the first time this line is seen."""
    key = (source, line)
    with _lock:
        if key in _seen:
            return
        if len(_seen) >= MAX_REMEMBERED:
            _seen.clear()
        _seen.add(key)
    log.warning("event=proc_line_skipped source=%s line=%r reason=%r", source, line, reason)
