"""Which config keys exist, where a key sits in the file, and what an unknown key was
probably meant to be (the configtest warnings)."""

from __future__ import annotations

import re
from typing import Any

from sabamon.agent.plugins.config import COMMAND_KEYS, KIND_KEYS, unknown_plugin_keys

TOP_LEVEL_KEYS = {
    "apikey",
    "apibase",
    "root",
    "pidfile",
    "verbose",
    "silent",
    "diagnostic",
    "display_name",
    "roles",
    "include",
    "http_proxy",
    "https_proxy",
    "disable_http_keep_alive",
    "cloud_platform",
}
SECTION_KEYS: dict[str, set[str]] = {
    "host_status": {"on_start", "on_stop"},
    "filesystems": {"ignore", "use_mountpoint"},
    "disks": {"ignore"},
    "interfaces": {"ignore", "use_adapter"},
    "spool": {"max_bytes"},  # sabamon's own
}
REMOVED_SECTION = "connection"  # mackerel-agent 0.49.0 made these knobs internal


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


def suggest(word: str, candidates: set[str]) -> str | None:
    """The closest candidate under distance 3, as mackerel-agent's configtest does."""
    scored = sorted((levenshtein(word, c), c) for c in candidates)
    return scored[0][1] if scored and scored[0][0] < 3 else None


def _warning(key: str, hint: str | None) -> str:
    tail = f" Did you mean {hint} ?" if hint else ""
    return f"[WARNING] {key} is unexpected key.{tail}"


def unknown_key_warnings(raw: dict[str, Any]) -> list[str]:
    """One configtest warning per key sabamon does not know, with a suggestion."""
    warnings: list[str] = []
    for key, value in raw.items():
        if key in TOP_LEVEL_KEYS:
            continue
        if key == "plugin" and isinstance(value, dict):
            warnings += _plugin_warnings(value)
        elif key in SECTION_KEYS and isinstance(value, dict):
            known = SECTION_KEYS[key]
            warnings += [_warning(f"{key}.{k}", suggest(k, known)) for k in value if k not in known]
        elif key == REMOVED_SECTION and isinstance(value, dict):
            warnings += [
                f"[WARNING] {key}.{k} is unexpected key. "
                "(removed in mackerel-agent 0.49.0; the spool replaces it)"
                for k in value
            ]
        else:
            warnings.append(_warning(key, suggest(key, TOP_LEVEL_KEYS | set(SECTION_KEYS))))
    return warnings


def _plugin_warnings(plugins: dict[str, Any]) -> list[str]:
    warnings: list[str] = []
    for key in unknown_plugin_keys(plugins):
        parts = key.split(".")
        if len(parts) == 2:
            known = set(KIND_KEYS)
        elif parts[-2] == "action":
            known = set(COMMAND_KEYS)
        else:
            known = set(KIND_KEYS[parts[1]])
        warnings.append(_warning(key, suggest(parts[-1], known)))
    return warnings


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGNMENT = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)
_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _parts(dotted: str) -> list[str]:
    return [p.strip("\"'") for p in _PART.findall(dotted)]


def find_key_line(text: str, dotted_key: str) -> int | None:
    """The 1-based line where `dotted_key` is assigned or its table opens; None if absent.
    A line scanner, not a TOML parser: good enough to point at a key in a valid file."""
    wanted = dotted_key.split(".")
    prefix: list[str] = []
    best: int | None = None
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            prefix = _parts(header.group(1))
            if prefix == wanted:
                return number
            if best is None and wanted[: len(prefix)] == prefix and prefix:
                best = number
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            full = prefix + _parts(assignment.group(1))
            if full == wanted:
                return number
            if full == wanted[: len(full)]:
                best = number
    return best
