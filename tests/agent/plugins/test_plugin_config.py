"""Every §3 plugin key with its rules, errors named by dotted key, configtest helpers."""

from __future__ import annotations

import logging
import tomllib

import pytest
from plugin_helpers import script

from sabamon.agent.config_keys import ignored_key_notices, unexpected_keys
from sabamon.agent.errors import ConfigError
from sabamon.agent.plugins.config import missing_commands, parse_plugins
from sabamon.agent.plugins.duration import parse_minutes


def plugins(toml: str) -> dict[str, object]:
    table: dict[str, object] = tomllib.loads(toml).get("plugin", {})
    return table


def test_every_key_parsed() -> None:
    cfg = parse_plugins(
        plugins(
            """
[plugin.metrics.apache]
command = "mackerel-plugin-apache2 -p 80"
user = "www"
env = { " PORT " = "80", "" = "skipped" }
timeout_seconds = 5
custom_identifier = "web.example"
include_pattern = "^apache\\\\."
exclude_pattern = "idle"
use_plugin_timestamp = true

[plugin.checks.ssh]
command = ["check-ssh", "--port", "22"]
check_interval = "1h30m"
notification_interval = 5
max_check_attempts = 3
memo = "call the on-call"
action = { command = "notify.sh", env = { TEAM = "ops" }, timeout_seconds = 3 }

[plugin.metadata.inventory]
command = "inventory --json"
execution_interval = 30
"""
        )
    )
    (metric,) = cfg.metrics
    assert metric.command.command == "mackerel-plugin-apache2 -p 80"
    assert metric.command.argv() == ["sudo", "-Eu", "www", "sh", "-c", metric.command.command]
    assert dict(metric.command.env) == {"PORT": "80"}
    assert metric.command.timeout_seconds == 5
    assert metric.custom_identifier == "web.example"
    assert metric.include_pattern is not None and metric.include_pattern.search("apache.x")
    assert metric.exclude_pattern is not None and metric.exclude_pattern.pattern == "idle"
    assert metric.use_plugin_timestamp
    (check,) = cfg.checks
    assert check.command.argv() == ["check-ssh", "--port", "22"]
    assert check.command.timeout_seconds == 30
    assert check.check_interval_minutes == 60  # 90 clamped to 60
    assert check.notification_interval == 5
    assert check.max_check_attempts == 3
    assert check.memo == "call the on-call"
    assert check.action is not None
    assert check.action.key == "plugin.checks.ssh.action"
    assert dict(check.action.env) == {"TEAM": "ops"} and check.action.timeout_seconds == 3
    (metadata,) = cfg.metadata
    assert metadata.execution_interval_minutes == 30


def test_defaults_and_clamps() -> None:
    cfg = parse_plugins(
        plugins(
            """
[plugin.checks.a]
command = "true"
check_interval = 0
[plugin.checks.b]
command = "true"
[plugin.metadata.m]
command = "true"
execution_interval = 1
[plugin.metadata.n]
command = "true"
"""
        )
    )
    assert [c.check_interval_minutes for c in cfg.checks] == [1, 1]
    assert [c.notification_interval for c in cfg.checks] == [None, None]
    assert [c.max_check_attempts for c in cfg.checks] == [None, None]
    assert [m.execution_interval_minutes for m in cfg.metadata] == [10, 10]


def test_prevent_alert_auto_close_forces_one_attempt(caplog: pytest.LogCaptureFixture) -> None:
    toml = '[plugin.checks.c]\ncommand = "true"\nprevent_alert_auto_close = true\n'
    with caplog.at_level(logging.WARNING):
        (check,) = parse_plugins(plugins(toml + "max_check_attempts = 5\n")).checks
    assert check.max_check_attempts == 1 and check.prevent_alert_auto_close
    assert "plugin.checks.c" in caplog.text


def test_memo_cut_to_250_runes(caplog: pytest.LogCaptureFixture) -> None:
    memo = "あ" * 300
    with caplog.at_level(logging.WARNING):
        (check,) = parse_plugins(
            plugins(f'[plugin.checks.c]\ncommand = "x"\nmemo = "{memo}"')
        ).checks
    assert check.memo == "あ" * 250
    assert "plugin.checks.c.memo" in caplog.text


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[plugin.checks.ssh]\ncommand = 3", "plugin.checks.ssh.command"),
        ("[plugin.checks.ssh]\ncommand = []", "plugin.checks.ssh.command"),
        ('[plugin.checks.ssh]\ncommand = ["a", 1]', "plugin.checks.ssh.command"),
        ('[plugin.checks.ssh]\ncommand = ""', "plugin.checks.ssh.command"),
        ("[plugin.metrics.m]\nuser = 'x'", "plugin.metrics.m.command"),
        ('[plugin.metrics.m]\ncommand = "x"\nenv = { "A=B" = "1" }', "plugin.metrics.m.env.A=B"),
        ('[plugin.metrics.m]\ncommand = "x"\nenv = { A = 1 }', "plugin.metrics.m.env.A"),
        (
            '[plugin.metrics.m]\ncommand = "x"\ninclude_pattern = "("',
            "plugin.metrics.m.include_pattern",
        ),
        (
            '[plugin.metrics.m]\ncommand = "x"\ntimeout_seconds = -1',
            "plugin.metrics.m.timeout_seconds",
        ),
        (
            '[plugin.metrics.m]\ncommand = "x"\nuse_plugin_timestamp = "yes"',
            "plugin.metrics.m.use_plugin_timestamp",
        ),
        (
            '[plugin.checks.c]\ncommand = "x"\ncheck_interval = "90s"',
            "plugin.checks.c.check_interval",
        ),
        ('[plugin.checks.c]\ncommand = "x"\ncheck_interval = -1', "plugin.checks.c.check_interval"),
        (
            '[plugin.checks.c]\ncommand = "x"\nmax_check_attempts = 2147483648',
            "plugin.checks.c.max_check_attempts",
        ),
        ('[plugin.checks.c]\ncommand = "x"\naction = "y"', "plugin.checks.c.action"),
        (
            '[plugin.checks.c]\ncommand = "x"\naction = { user = "y" }',
            "plugin.checks.c.action.command",
        ),
        (
            '[plugin.metadata.d]\ncommand = "x"\nexecution_interval = "1x"',
            "plugin.metadata.d.execution_interval",
        ),
    ],
)
def test_errors_name_the_dotted_key(toml: str, key: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_plugins(plugins(toml))
    assert error.value.key == key
    assert error.value.message


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        (0, 0),
        (15, 15),
        ("1h30m", 90),
        ("90m", 90),
        ("2h", 120),
        ("0", 0),
        ("1.5h", 90),
        ("3600s", 60),
        ("60000ms", 1),
    ],
)
def test_durations(value: object, minutes: int) -> None:
    assert parse_minutes(value, "k") == minutes


@pytest.mark.parametrize("value", ["-1m", "90s", "1h30", "abc", "", -5, 1.5, True])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ConfigError) as error:
        parse_minutes(value, "plugin.checks.c.check_interval")
    assert error.value.key == "plugin.checks.c.check_interval"


def test_keys_of_another_plugin_kind_are_notices() -> None:
    raw = tomllib.loads(
        """
[plugin.metrics.m]
command = "x"
comand = "typo"
check_interval = 1
[plugin.checks.c]
command = "x"
action = { command = "y", usr = "z" }
check_interval = 1
[plugin.metadata.d]
command = "x"
action = { command = "y" }
"""
    )
    assert ignored_key_notices(raw) == [
        "[WARNING] plugin.metrics.m.check_interval is ignored in metrics plugins.",
        "[WARNING] plugin.metadata.d.action is ignored in metadata plugins.",
    ]
    assert unexpected_keys(raw) == [
        ("plugin.checks.c.action.usr", "plugin.checks.c.action.user"),
        ("plugin.metrics.m.comand", "plugin.metrics.m.command"),
    ]


def test_missing_commands_for_configtest() -> None:
    cfg = parse_plugins(
        plugins(
            f"""
[plugin.metrics.found]
command = "{script("metrics.sh")} --flag"
[plugin.metrics.shell]
command = "FOO=1 some-missing-thing | cat"
[plugin.metrics.by_path]
command = ["sh", "-c", "true"]
[plugin.checks.gone]
command = "/nonexistent/check-gone -w 1"
action = {{ command = ["no-such-action-cmd"] }}
[plugin.metadata.not_exec]
command = ["{script("not_executable.sh")}"]
"""
        )
    )
    assert missing_commands(cfg) == [
        "plugin.checks.gone.command: /nonexistent/check-gone not found",
        f"plugin.metadata.not_exec.command: {script('not_executable.sh')} is not executable",
        "plugin.checks.gone.action.command: no-such-action-cmd not found",
    ]
