"""Which config keys exist, where a key sits in the file, and the configtest warnings.

`unexpected_key_warnings` prints what mackerel-agent's `config/validate.go` prints, line for
line, because people grep for these lines: the keys BurntSushi/toml leaves undecoded, sorted,
each reported once with its subkeys folded in; a suggestion is the first candidate (in the
order of mackerel-agent's `Config` struct fields) within Levenshtein distance 3, prefixed with
the parent key; `[plugin.<kind>.<name>]` with an unknown kind suggests the nearest of
metrics/checks/metadata, else `plugin.metrics.<name>`.

mackerel-agent decodes every plugin table into one struct, so a key of one kind under
another (`check_interval` in a metrics plugin) is not unexpected there; sabamon reports it
apart, with `ignored_key_notices`, without failing configtest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from sabamon.agent.plugins.config import KIND_KEYS

_COMMAND_FIELDS = ("command", "user", "env", "timeout_seconds")
# mackerel-agent's `PluginConfig` (embedded `CommandConfig` first, then its own fields; the
# `action` table is a `CommandConfig`) and `Config`, in the order `makeCandidates` walks them.
_PLUGIN_FIELDS = (
    "commandConfig", *_COMMAND_FIELDS, "notification_interval", "check_interval",
    "execution_interval", "max_check_attempts", "custom_identifier", "prevent_alert_auto_close",
    "include_pattern", "exclude_pattern", "action", *_COMMAND_FIELDS, "memo",
    "use_plugin_timestamp", "max_values",
)  # fmt: skip
_SECTIONS: dict[str, tuple[str, ...]] = {
    "host_status": ("on_start", "on_stop"),
    "disks": ("ignore",),
    "filesystems": ("ignore", "use_mountpoint"),
    "interfaces": ("ignore", "use_adapter"),
    "spool": ("max_bytes",),  # sabamon's own
}
CANDIDATES: tuple[str, ...] = (
    "apibase", "apikey", "root", "pidfile", "conffile", "roles", "verbose", "silent",
    "diagnostic", "disable_http_keep_alive", "display_name",
    "host_status", *_SECTIONS["host_status"], "disks", *_SECTIONS["disks"],
    "filesystems", *_SECTIONS["filesystems"], "interfaces", *_SECTIONS["interfaces"],
    "http_proxy", "https_proxy", "cloud_platform", "plugin", *_PLUGIN_FIELDS, "include",
    "spool", *_SECTIONS["spool"],
)  # fmt: skip
TOP_LEVEL_KEYS = frozenset({
    "apibase", "apikey", "root", "pidfile", "conffile", "roles", "verbose", "silent",
    "diagnostic", "disable_http_keep_alive", "display_name", "http_proxy", "https_proxy",
    "cloud_platform", "include",
})  # fmt: skip
PLUGIN_KINDS = ("metrics", "checks", "metadata")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


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


def suggest(word: str, candidates: tuple[str, ...] = CANDIDATES) -> str:
    """The first candidate within distance 3 ("" if none), as mackerel-agent's
    `keySuggestion` picks it: first in order, not nearest."""
    return next((c for c in candidates if levenshtein(word, c) < 3), "")


def _quoted(part: str) -> str:
    """A key part as BurntSushi/toml's `Key.String` writes it."""
    return part if _BARE_KEY.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'


def _subtree(path: list[str], value: Any) -> Iterator[str]:
    yield ".".join(_quoted(p) for p in path)
    if isinstance(value, Mapping):
        for key, child in value.items():
            yield from _subtree([*path, key], child)


def _undecoded_in(
    path: list[str], table: Mapping[str, Any], known: tuple[str, ...]
) -> Iterator[str]:
    for key, value in table.items():
        if key not in known:
            yield from _subtree([*path, key], value)


def _undecoded_plugin(path: list[str], plugin: Mapping[str, Any]) -> Iterator[str]:
    for key, value in plugin.items():
        if key == "env" or (key == "action" and not isinstance(value, Mapping)):
            continue  # env decodes any table; a non-table action is a config error
        if key == "action":
            for name, child in value.items():
                if name != "env" and name not in _COMMAND_FIELDS:
                    yield from _subtree([*path, key, name], child)
        elif key not in _PLUGIN_FIELDS or key == "commandConfig":
            yield from _subtree([*path, key], value)


def undecoded_keys(raw: Mapping[str, Any]) -> list[str]:
    """The dotted keys mackerel-agent's TOML decoder would leave undecoded, sorted."""
    found: list[str] = []
    for key, value in raw.items():
        if key in _SECTIONS and isinstance(value, Mapping):
            found += _undecoded_in([key], value, _SECTIONS[key])
        elif key == "plugin" and isinstance(value, Mapping):
            for kind, plugins in value.items():
                if not isinstance(plugins, Mapping):
                    continue
                for name, plugin in plugins.items():
                    if isinstance(plugin, Mapping):
                        found += _undecoded_plugin(["plugin", kind, name], plugin)
        elif key not in TOP_LEVEL_KEYS and key not in _SECTIONS and key != "plugin":
            found += _subtree([key], value)
    return sorted(found)


def unexpected_keys(raw: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, suggested key or "") pairs, sorted by key, as `ValidateConfigFile` returns."""
    result: list[tuple[str, str]] = []
    detected: list[str] = []
    for dotted in undecoded_keys(raw):
        parts = dotted.split(".")
        top, last, parent = parts[0], parts[-1], ".".join(parts[:-1])
        if parent in detected or top in detected:
            continue
        if top in CANDIDATES:
            key, hint = dotted, suggest(last)
            hint = f"{parent}.{hint}" if hint else ""
        else:
            key, hint = top, suggest(top)
        result.append((key, hint))
        detected.append(key)
    plugins = raw.get("plugin")
    for kind, tables in plugins.items() if isinstance(plugins, Mapping) else ():
        if kind in PLUGIN_KINDS or not isinstance(tables, Mapping):
            continue
        nearest = suggest(kind, PLUGIN_KINDS) or "metrics"
        result += [(f"plugin.{kind}.{name}", f"plugin.{nearest}.{name}") for name in tables]
    return sorted(result, key=lambda pair: pair[0])


def unexpected_key_warnings(raw: Mapping[str, Any]) -> list[str]:
    """mackerel-agent's configtest lines, e.g. `[WARNING] podfile is unexpected key. Did you
    mean pidfile ?`; any of them makes configtest exit 1, as there."""
    return [
        f"[WARNING] {key} is unexpected key." + (f" Did you mean {hint} ?" if hint else "")
        for key, hint in unexpected_keys(raw)
    ]


def ignored_key_notices(raw: Mapping[str, Any]) -> list[str]:
    """sabamon's own lines for a plugin key that another kind uses and this kind ignores,
    e.g. `check_interval` under `[plugin.metrics.x]`."""
    plugins = raw.get("plugin")
    notices = []
    for kind, tables in plugins.items() if isinstance(plugins, Mapping) else ():
        if kind not in KIND_KEYS or not isinstance(tables, Mapping):
            continue
        for name, plugin in tables.items():
            for key in plugin if isinstance(plugin, Mapping) else ():
                if key in _PLUGIN_FIELDS and key not in KIND_KEYS[kind]:
                    notices.append(
                        f"[WARNING] plugin.{kind}.{name}.{key} is ignored in {kind} plugins."
                    )
    return notices


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
