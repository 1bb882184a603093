"""The `[plugin.metrics|checks|metadata.NAME]` tables of the agent config.

`parse_plugins` turns the decoded `plugin` table into typed settings and raises `ConfigError`
with the dotted key (`plugin.checks.ssh.command`); the core's loader adds the line.
`KIND_KEYS` and `missing_commands` serve `agent configtest`.
"""

from __future__ import annotations

import logging
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from sabamon.agent.errors import ConfigError
from sabamon.agent.plugins.duration import parse_minutes
from sabamon.agent.plugins.environment import plugin_search_path

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30
MEMO_MAX_RUNES = 250
MIN_EXECUTION_INTERVAL_MINUTES = 10
CHECK_INTERVAL_RANGE = (1, 60)

DEFAULT_MAX_VALUES = 1000
"""Values a metric plugin may yield per run: a busy host's plugins print tens to hundreds;
a plugin printing without end costs its own values past this, not the host's batch."""
COMMAND_KEYS = frozenset({"command", "user", "env", "timeout_seconds"})
KIND_KEYS: dict[str, frozenset[str]] = {
    "metrics": COMMAND_KEYS
    | {
        "custom_identifier",
        "include_pattern",
        "exclude_pattern",
        "use_plugin_timestamp",
        "max_values",  # sabamon's own
    },
    "checks": COMMAND_KEYS
    | {
        "check_interval",
        "notification_interval",
        "max_check_attempts",
        "prevent_alert_auto_close",
        "custom_identifier",
        "memo",
        "action",
    },
    "metadata": COMMAND_KEYS | {"execution_interval"},
}


@dataclass(frozen=True)
class PluginCommand:
    """How to run one command: `command` is a shell string (`sh -c`) or an argv tuple."""

    key: str
    command: str | tuple[str, ...]
    user: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def argv(self) -> list[str]:
        args = ["sh", "-c", self.command] if isinstance(self.command, str) else [*self.command]
        return ["sudo", "-Eu", self.user, *args] if self.user else args


@dataclass(frozen=True)
class MetricPluginConfig:
    name: str
    command: PluginCommand
    custom_identifier: str | None = None
    include_pattern: re.Pattern[str] | None = None
    exclude_pattern: re.Pattern[str] | None = None
    use_plugin_timestamp: bool = False
    max_values: int = DEFAULT_MAX_VALUES
    """Values kept from one run; the rest are dropped and logged (a flooding plugin)."""


@dataclass(frozen=True)
class CheckPluginConfig:
    name: str
    command: PluginCommand
    check_interval_minutes: int = 1
    notification_interval: int | None = None
    max_check_attempts: int | None = None
    prevent_alert_auto_close: bool = False
    custom_identifier: str | None = None
    memo: str = ""
    action: PluginCommand | None = None


@dataclass(frozen=True)
class MetadataPluginConfig:
    name: str
    command: PluginCommand
    execution_interval_minutes: int = MIN_EXECUTION_INTERVAL_MINUTES


@dataclass(frozen=True)
class PluginsConfig:
    metrics: tuple[MetricPluginConfig, ...] = ()
    checks: tuple[CheckPluginConfig, ...] = ()
    metadata: tuple[MetadataPluginConfig, ...] = ()


def _string(table: Mapping[str, object], name: str, key: str) -> str | None:
    value = table.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{key}.{name}", f"must be a string, got {value!r}")
    return value


def _bool(table: Mapping[str, object], name: str, key: str) -> bool:
    value = table.get(name, False)
    if not isinstance(value, bool):
        raise ConfigError(f"{key}.{name}", f"must be true or false, got {value!r}")
    return value


def _attempts(table: Mapping[str, object], name: str, key: str) -> int | None:
    """An int32, as mackerel-agent decodes `max_check_attempts`; below 0 counts as 0
    ("unset": the report leaves the field out, as mackerel-agent's `normalize` does)."""
    value = table.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > 2**31 - 1:
        raise ConfigError(f"{key}.{name}", f"must be an integer, got {value!r}")
    return max(value, 0)


def _pattern(table: Mapping[str, object], name: str, key: str) -> re.Pattern[str] | None:
    text = _string(table, name, key)
    if not text:
        return None
    try:
        return re.compile(text)
    except re.error as exc:
        raise ConfigError(f"{key}.{name}", f"invalid regular expression: {exc}") from None


def _command_value(value: object, key: str) -> str | tuple[str, ...]:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, list) and value and all(isinstance(arg, str) for arg in value):
        return tuple(value)
    if value is None:
        raise ConfigError(key, "is required")
    raise ConfigError(key, "must be a non-empty string or a non-empty array of strings")


def _env(value: object, key: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ConfigError(key, "must be a table of strings")
    env: dict[str, str] = {}
    for raw_name, raw_value in value.items():
        name = raw_name.strip()
        if not name:
            continue
        if "=" in name:
            raise ConfigError(f"{key}.{name}", "an environment variable name must not contain '='")
        if not isinstance(raw_value, str):
            raise ConfigError(f"{key}.{name}", f"must be a string, got {raw_value!r}")
        env[name] = raw_value
    return env


def parse_command(table: Mapping[str, object], key: str) -> PluginCommand:
    """The keys every plugin (and a check's `action`) shares; `key` is the table's dotted key."""
    timeout = table.get("timeout_seconds", 0)
    if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout < 0:
        raise ConfigError(f"{key}.timeout_seconds", f"must be a positive integer, got {timeout!r}")
    return PluginCommand(
        key=key,
        command=_command_value(table.get("command"), f"{key}.command"),
        user=_string(table, "user", key) or None,
        env=_env(table.get("env"), f"{key}.env"),
        timeout_seconds=timeout or DEFAULT_TIMEOUT_SECONDS,
    )


def _parse_metric(name: str, table: Mapping[str, object], key: str) -> MetricPluginConfig:
    return MetricPluginConfig(
        name=name,
        command=parse_command(table, key),
        custom_identifier=_string(table, "custom_identifier", key) or None,
        include_pattern=_pattern(table, "include_pattern", key),
        exclude_pattern=_pattern(table, "exclude_pattern", key),
        use_plugin_timestamp=_bool(table, "use_plugin_timestamp", key),
        max_values=_positive(table, "max_values", key, DEFAULT_MAX_VALUES),
    )


def _positive(table: Mapping[str, object], name: str, key: str, default: int) -> int:
    value = table.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key}.{name}", f"must be a positive integer, got {value!r}")
    return value


def _parse_check(name: str, table: Mapping[str, object], key: str) -> CheckPluginConfig:
    low, high = CHECK_INTERVAL_RANGE
    interval = table.get("check_interval")
    minutes = low if interval is None else parse_minutes(interval, f"{key}.check_interval")
    notification = table.get("notification_interval")
    notification_minutes = (
        None
        if notification is None
        else parse_minutes(notification, f"{key}.notification_interval")
    )
    attempts = _attempts(table, "max_check_attempts", key)
    prevent_close = _bool(table, "prevent_alert_auto_close", key)
    if prevent_close and attempts is not None and attempts > 1:
        log.warning("event=max_check_attempts_forced key=%s reason=prevent_alert_auto_close", key)
        attempts = 1
    memo = _string(table, "memo", key) or ""
    if len(memo) > MEMO_MAX_RUNES:
        log.warning("event=memo_cut key=%s.memo max_runes=%d", key, MEMO_MAX_RUNES)
        memo = memo[:MEMO_MAX_RUNES]
    action = table.get("action")
    if action is not None and not isinstance(action, Mapping):
        raise ConfigError(f"{key}.action", "must be a table {command, user, env, timeout_seconds}")
    return CheckPluginConfig(
        name=name,
        command=parse_command(table, key),
        check_interval_minutes=min(max(minutes, low), high),
        notification_interval=notification_minutes,
        max_check_attempts=attempts,
        prevent_alert_auto_close=prevent_close,
        custom_identifier=_string(table, "custom_identifier", key) or None,
        memo=memo,
        action=None if action is None else parse_command(action, f"{key}.action"),
    )


def _parse_metadata(name: str, table: Mapping[str, object], key: str) -> MetadataPluginConfig:
    interval = table.get("execution_interval")
    minutes = 0 if interval is None else parse_minutes(interval, f"{key}.execution_interval")
    return MetadataPluginConfig(
        name=name,
        command=parse_command(table, key),
        execution_interval_minutes=max(minutes, MIN_EXECUTION_INTERVAL_MINUTES),
    )


def _tables(table: Mapping[str, object], kind: str) -> list[tuple[str, Mapping[str, object]]]:
    section = table.get(kind, {})
    if not isinstance(section, Mapping):
        raise ConfigError(f"plugin.{kind}", "must be a table of [plugin.{kind}.NAME] tables")
    tables = []
    for name, plugin in section.items():
        if not isinstance(plugin, Mapping):
            raise ConfigError(f"plugin.{kind}.{name}", "must be a table")
        tables.append((name, plugin))
    return tables


def parse_plugins(table: Mapping[str, object]) -> PluginsConfig:
    """Typed plugin settings from the config's `plugin` table."""
    return PluginsConfig(
        metrics=tuple(
            _parse_metric(name, plugin, f"plugin.metrics.{name}")
            for name, plugin in _tables(table, "metrics")
        ),
        checks=tuple(
            _parse_check(name, plugin, f"plugin.checks.{name}")
            for name, plugin in _tables(table, "checks")
        ),
        metadata=tuple(
            _parse_metadata(name, plugin, f"plugin.metadata.{name}")
            for name, plugin in _tables(table, "metadata")
        ),
    )


_SHELL_WORDS = frozenset(
    {
        "if",
        "for",
        "while",
        "until",
        "case",
        "exec",
        "env",
        "test",
        "[",
        "{",
        "(",
        "!",
        "cd",
        ".",
        "source",
        "export",
        "set",
    }
)


def _program(command: str | tuple[str, ...]) -> str | None:
    """The program a command starts, or None when a shell string is too complex to tell."""
    if isinstance(command, tuple):
        return command[0]
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if not words or words[0] in _SHELL_WORDS or "=" in words[0] or "$" in words[0]:
        return None
    return words[0]


def _all_commands(cfg: PluginsConfig) -> list[PluginCommand]:
    commands = [plugin.command for plugin in cfg.metrics]
    commands += [check.command for check in cfg.checks]
    commands += [plugin.command for plugin in cfg.metadata]
    return commands + [check.action for check in cfg.checks if check.action is not None]


def missing_commands(cfg: PluginsConfig, search_path: str | None = None) -> list[str]:
    """One message per plugin command that cannot be found or is not executable."""
    import shutil  # here, for `configtest`: ~0.4 MB of RSS the running agent does without

    path = search_path if search_path is not None else plugin_search_path(os.environ)
    problems = []
    for command in _all_commands(cfg):
        program = _program(command.command)
        if program is None or shutil.which(program, path=path) is not None:
            continue
        if os.path.exists(program) or shutil.which(program, mode=os.F_OK, path=path):
            problems.append(f"{command.key}.command: {program} is not executable")
        else:
            problems.append(f"{command.key}.command: {program} not found")
    return problems
