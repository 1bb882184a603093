"""The agent's config file: mackerel-agent's TOML keys (spec/agent.md §3), so an existing
`mackerel-agent.conf` loads as is, plus sabamon's own `[spool] max_bytes`.

Every problem raises `ConfigError` naming the dotted key and its line. Unknown keys are not
errors; they become `AgentConfig.warnings` (mackerel-agent's configtest lines, which fail
configtest) and `AgentConfig.notices` (sabamon's own, which do not); `configtest` prints both.
"""

from __future__ import annotations

import glob
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sabamon.agent.api import DEFAULT_API_BASE, HOST_STATUSES
from sabamon.agent.config_keys import (
    find_key_line,
    ignored_key_notices,
    unexpected_key_warnings,
)
from sabamon.agent.errors import ConfigError
from sabamon.agent.plugins.config import PluginsConfig, parse_plugins
from sabamon.agent.spool import DEFAULT_MAX_BYTES

CLOUD_PLATFORMS = ("auto", "", "none", "ec2", "gce", "azurevm")
ROLE_PATTERN = re.compile(r"^[a-zA-Z0-9][-_a-zA-Z0-9]*:\s*[a-zA-Z0-9][-_a-zA-Z0-9]*$")


@dataclass
class AgentConfig:
    apikey: str = ""
    apibase: str = DEFAULT_API_BASE
    root: Path | None = None
    pidfile: str | None = None  # None: the default path; "": no pidfile
    verbose: bool = False
    silent: bool = False
    diagnostic: bool = False
    display_name: str = ""
    roles: list[str] = field(default_factory=list)
    include: str = ""
    http_proxy: str = ""
    https_proxy: str = ""
    disable_http_keep_alive: bool = False
    cloud_platform: str = "auto"
    on_start: str = ""
    on_stop: str = ""
    filesystems_ignore: re.Pattern[str] | None = None
    filesystems_use_mountpoint: bool = False
    disks_ignore: re.Pattern[str] | None = None
    interfaces_ignore: re.Pattern[str] | None = None
    spool_max_bytes: int = DEFAULT_MAX_BYTES
    plugins: PluginsConfig = field(default_factory=lambda: parse_plugins({}))
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    path: Path | None = None


def _decode(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ConfigError(str(path), f"cannot read the config file: {err.strerror}") from err
    except UnicodeDecodeError as err:
        raise ConfigError(str(path), "the config file is not UTF-8") from err
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as err:
        found = re.search(r"at line (\d+)", str(err))
        raise ConfigError(str(path), str(err), int(found.group(1)) if found else None) from err


def _merge_include(base: dict[str, Any], extra: dict[str, Any]) -> None:
    """Decode an included file on top: scalars and whole plugin entries overwrite, other
    tables merge key by key, `include` inside an included file is ignored."""
    for key, value in extra.items():
        if key == "include":
            continue
        if key == "plugin" and isinstance(value, dict):
            plugins = base.setdefault("plugin", {})
            for kind, entries in value.items():
                if isinstance(entries, dict):
                    plugins.setdefault(kind, {}).update(entries)
                else:
                    plugins[kind] = entries
        elif isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key].update(value)
        else:
            base[key] = value


class _Reader:
    """Typed access to the raw table; every error names the key and its line."""

    def __init__(self, raw: dict[str, Any], texts: list[tuple[Path, str]]) -> None:
        self.raw = raw
        self.texts = texts

    def error(self, key: str, message: str) -> ConfigError:
        for path, text in reversed(self.texts):
            line = find_key_line(text, key)
            if line is not None:
                where = f" in {path}" if path != self.texts[0][0] else ""
                return ConfigError(key, message + where, line)
        return ConfigError(key, message)

    def get(self, key: str, kind: type, default: Any) -> Any:
        table: Any = self.raw
        *sections, name = key.split(".")
        for section in sections:
            table = table.get(section, {})
            if not isinstance(table, dict):
                raise self.error(section, "must be a table")
        if name not in table:
            return default
        value = table[name]
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            raise self.error(key, f"must be {kind.__name__}, got {type(value).__name__}")
        return value

    def regex(self, key: str) -> re.Pattern[str] | None:
        pattern: str = self.get(key, str, "")
        if not pattern:
            return None
        try:
            return re.compile(pattern)
        except re.error as err:
            raise self.error(key, f"invalid regular expression {pattern!r}: {err}") from err

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        value: str = self.get(key, str, default)
        if value not in choices:
            allowed = ", ".join(repr(c) for c in choices if c)
            raise self.error(key, f"{value!r} is not one of {allowed}")
        return value


def valid_roles(roles: list[str]) -> tuple[list[str], list[str]]:
    """Split comma-joined role names; return (valid, invalid)."""
    names = [r.strip() for entry in roles for r in entry.split(",") if r.strip()]
    return (
        [r for r in names if ROLE_PATTERN.match(r)],
        [r for r in names if not ROLE_PATTERN.match(r)],
    )


def load_config(path: Path | None) -> AgentConfig:
    """Load `path` (None: defaults only) and its includes; raise ConfigError on bad input."""
    raw: dict[str, Any] = {}
    texts: list[tuple[Path, str]] = []
    if path is not None:
        raw, text = _decode(path)
        texts.append((path, text))
        include = raw.get("include", "")
        if not isinstance(include, str):
            raise _Reader(raw, texts).error("include", "must be a string (a glob)")
        for included in sorted(glob.glob(include)) if include else []:
            extra, extra_text = _decode(Path(included))
            texts.append((Path(included), extra_text))
            _merge_include(raw, extra)
    return _build(_Reader(raw, texts), path)


def _build(reader: _Reader, path: Path | None) -> AgentConfig:
    get = reader.get
    roles = get("roles", list, [])
    if not all(isinstance(r, str) for r in roles):
        raise reader.error("roles", "must be a list of strings")
    root = get("root", str, "")
    max_bytes = get("spool.max_bytes", int, DEFAULT_MAX_BYTES)
    if max_bytes < 65536:
        raise reader.error("spool.max_bytes", "must be at least 65536")
    config = AgentConfig(
        apikey=get("apikey", str, ""),
        apibase=get("apibase", str, DEFAULT_API_BASE) or DEFAULT_API_BASE,
        root=Path(root) if root else None,
        pidfile=get("pidfile", str, None),
        verbose=get("verbose", bool, False),
        silent=get("silent", bool, False),
        diagnostic=get("diagnostic", bool, False),
        display_name=get("display_name", str, ""),
        roles=roles,
        include=get("include", str, ""),
        http_proxy=get("http_proxy", str, ""),
        https_proxy=get("https_proxy", str, ""),
        disable_http_keep_alive=get("disable_http_keep_alive", bool, False),
        cloud_platform=reader.choice("cloud_platform", CLOUD_PLATFORMS, "auto") or "auto",
        on_start=reader.choice("host_status.on_start", ("", *HOST_STATUSES), ""),
        on_stop=reader.choice("host_status.on_stop", ("", *HOST_STATUSES), ""),
        filesystems_ignore=reader.regex("filesystems.ignore"),
        filesystems_use_mountpoint=get("filesystems.use_mountpoint", bool, False),
        disks_ignore=reader.regex("disks.ignore"),
        interfaces_ignore=reader.regex("interfaces.ignore"),
        spool_max_bytes=max_bytes,
        plugins=_plugins(reader),
        warnings=unexpected_key_warnings(reader.raw),
        notices=ignored_key_notices(reader.raw),
        path=path,
    )
    get("interfaces.use_adapter", bool, False)  # Windows only: checked, then ignored
    return config


def _plugins(reader: _Reader) -> PluginsConfig:
    table = reader.raw.get("plugin", {})
    if not isinstance(table, dict):
        raise reader.error("plugin", "must be a table of [plugin.metrics|checks|metadata.NAME]")
    try:
        return parse_plugins(table)
    except ConfigError as err:
        if err.line is not None:
            raise
        raise reader.error(err.key, err.message) from err
