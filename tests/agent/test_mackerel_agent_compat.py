"""What mackerel-agent accepts, `sabamon agent` accepts; what it prints, sabamon prints.

One table per kind, with cases from mackerel-agent's own tests, README and packaging:
- FLAGS: Go `flag` spellings on every command line the agent takes.
- DURATIONS: `config/duration_test.go`'s table (plugin intervals).
- VALIDATE_*: `config/validate_test.go`'s config and its expected unexpected keys.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from agent_process import FAST_TIMINGS, stop, write_config
from fault_server import FaultServer
from tests.support.waiting import wait_until

from sabamon.agent.cli import parse_args
from sabamon.agent.config_keys import unexpected_keys
from sabamon.agent.errors import ConfigError
from sabamon.agent.plugins.checks import CheckResult, CheckStatus, report_fields
from sabamon.agent.plugins.config import parse_plugins
from sabamon.agent.plugins.duration import parse_minutes

AGENT = [sys.executable, "-m", "sabamon.cli", "agent"]

# (argv after the subcommand, where it is written, expected parsed fields)
FLAGS: list[tuple[list[str], str, dict[str, object]]] = [
    (["-apikey", "KEY"], "README: init -apikey {{YOUR_APIKEY}}", {"apikey": "KEY"}),
    (["-apikey=KEY", "-apibase=http://h/"], "do_init.go", {"apikey": "KEY",
                                                          "apibase": "http://h/"}),
    (["-conf=mackerel-agent.conf"], "README: -conf=mackerel-agent.conf",
     {"conf": "mackerel-agent.conf"}),
    (["-conf", "/usr/local/etc/m.conf", "-v"], "FreeBSD rc: supervise -conf ... flags",
     {"conf": "/usr/local/etc/m.conf", "verbose": True}),
    (["-force", "--root", "/var/lib/mackerel-agent", "-v"],
     "deb unit ExecStopPost: retire -force --root $ROOT $OTHER_OPTS",
     {"force": True, "root": "/var/lib/mackerel-agent", "verbose": True}),
    (["-force", "--apibase=http://h/", "--root=/r"], "rpm init script: retire -force",
     {"force": True, "apibase": "http://h/", "root": "/r"}),
    (["--pidfile=/var/run/m.pid", "--root=/r"], "rpm init script: configtest_q",
     {"pidfile": "/var/run/m.pid", "root": "/r"}),
    (["-role=svc:web", "-verbose"], "main.go: -role=... -role=...",
     {"role": ["svc:web"], "verbose": True}),
    (["-role", "a:b,c:d", "-role=e:f"], "roleFullnamesFlag.Set splits on commas",
     {"role": ["a:b,c:d", "e:f"]}),
    (["-verbose=false", "-force=true", "-diagnostic=1"], "strconv.ParseBool spellings",
     {"verbose": False, "force": True, "diagnostic": True}),
    (["-pidfile="], "an empty value disables the pidfile", {"pidfile": ""}),
    (["-child", "-private-autoshutdown"], "supervisor and updater knobs", {"child": True}),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "source", "expected"), FLAGS, ids=[c[1] for c in FLAGS])
def test_go_flag_spellings(argv: list[str], source: str, expected: dict[str, object]) -> None:
    args = vars(parse_args(argv))
    assert {key: args[key] for key in expected} == expected, source


def test_a_bad_boolean_or_unknown_flag_is_a_usage_error() -> None:
    for argv in (["-force=yes"], ["-nosuchflag"]):
        with pytest.raises(SystemExit) as exit_:
            parse_args(argv)
        assert exit_.value.code == 2


def test_init_with_single_dash_flags_writes_the_config(tmp_path: Path) -> None:
    conf = tmp_path / "etc" / "mackerel-agent.conf"
    command = [*AGENT, "init", "-apikey", "KEY", f"-conf={conf}"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert conf.read_text() == 'apikey = "KEY"\n'


# mackerel-agent config/duration_test.go: (TOML string value, minutes or None for an error)
DURATIONS: list[tuple[str, int | None]] = [
    ("0", 0), ("10", 10), ("-10", None), ("10m", 10), ("1h10m", 70), ("2.5h", 150),
    ("-10m", None), ("1s", None), ("1ms", None), ("1.1m", None), ("+10", 10), ("010", 10),
]  # fmt: skip


@pytest.mark.parametrize(("text", "minutes"), DURATIONS)
def test_duration_strings(text: str, minutes: int | None) -> None:
    if minutes is None:
        with pytest.raises(ConfigError):
            parse_minutes(text, "plugin.checks.c.check_interval")
    else:
        assert parse_minutes(text, "plugin.checks.c.check_interval") == minutes


def test_digit_strings_in_a_check_plugin_are_minutes() -> None:
    table = tomllib.loads(
        '[plugin.checks.c]\ncommand = "true"\ncheck_interval = "10"\n'
        'notification_interval = "10"\n'
        '[plugin.metadata.m]\ncommand = "true"\nexecution_interval = "30"\n'
    )
    plugins = parse_plugins(table["plugin"])
    (check,), (metadata,) = plugins.checks, plugins.metadata
    assert check.check_interval_minutes == 10 and check.notification_interval == 10
    assert metadata.execution_interval_minutes == 30


# (max_check_attempts, prevent_alert_auto_close, the report's maxCheckAttempts or None if left
# out) — mackerel-agent: negative reads, `normalize(p, 0)` sends 0 (omitted), and
# prevent_alert_auto_close forces 1 only over 1.
ATTEMPTS: list[tuple[int, bool, int | None]] = [
    (-1, False, None), (-5, True, None), (0, False, None), (0, True, None), (3, False, 3),
    (3, True, 1), (1, True, 1),
]  # fmt: skip


@pytest.mark.parametrize(("attempts", "prevent", "sent"), ATTEMPTS)
def test_max_check_attempts(attempts: int, prevent: bool, sent: int | None) -> None:
    toml = (
        f'[plugin.checks.c]\ncommand = "true"\nmax_check_attempts = {attempts}\n'
        f"prevent_alert_auto_close = {str(prevent).lower()}\n"
    )
    (check,) = parse_plugins(tomllib.loads(toml)["plugin"]).checks
    fields = report_fields(check, CheckResult(CheckStatus.OK, "", 0))
    assert fields.get("maxCheckAttempts") == sent


# mackerel-agent config/validate_test.go, its configFile and wantUnexpectedKey.
VALIDATE_CONFIG = """
apikey = "123456abcde"
podfile = "/path/to/pidfile"

[foobar]
command = ["test command"]
env = { FOO = "BAR" }

[filesystems]
ignore = "/path/to/ignore"
use_mntpoint = true

[plugin.foo.bar]
command = ["test command"]
env = { FOO = "BAR" }

[plugin.metric.incorrect1]
command = ["test command"]

[plugin.check.incorrect2]
command = ["test command"]

[plugin.check.incorrect3]
command = ["test command"]

[plugins.check.incorrect4]
command = ["test command"]

[plugin.metrics.correct]
command = ["test command"]

[plugin.checks.correct]
command = ["test command"]

[plugin.metrics.incorrect5]
command = ["test command"]
action = { command = "test command", use = "test user", env = { TEST_KEY = "VALUE_1" } }

[plugin.metrics.incorrect6]
command = ["test command"]
action = { command = "test command", xxx = "yyy" }

[plugin.metrics.incorrect7.incorrect8]
command = ["test command"]

[plugin.checks.incorrect9]
command = ["test command"]
action = { command = "test command", user = "test user", en = { TEST_KEY = "VALUE_1" } }
"""
VALIDATE_EXPECTED = [
    ("filesystems.use_mntpoint", "filesystems.use_mountpoint"),
    ("foobar", ""),
    ("plugin.check.incorrect2", "plugin.checks.incorrect2"),
    ("plugin.check.incorrect3", "plugin.checks.incorrect3"),
    ("plugin.checks.incorrect9.action.en", "plugin.checks.incorrect9.action.env"),
    ("plugin.foo.bar", "plugin.metrics.bar"),
    ("plugin.metric.incorrect1", "plugin.metrics.incorrect1"),
    ("plugin.metrics.incorrect5.action.use", "plugin.metrics.incorrect5.action.user"),
    ("plugin.metrics.incorrect6.action.xxx", ""),
    ("plugin.metrics.incorrect7.incorrect8", ""),
    ("plugins", "plugin"),
    ("podfile", "pidfile"),
]


def test_unexpected_keys_match_mackerel_agents_table() -> None:
    assert unexpected_keys(tomllib.loads(VALIDATE_CONFIG)) == VALIDATE_EXPECTED


def configtest(conf: Path) -> subprocess.CompletedProcess[str]:
    command = [*AGENT, "configtest", f"-conf={conf}"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_configtest_prints_mackerel_agents_lines_and_exits_1(tmp_path: Path) -> None:
    conf = tmp_path / "mackerel-agent.conf"
    # incorrect7 has no command of its own, which fails loading in both agents
    loadable = VALIDATE_CONFIG.replace("[plugin.metrics.incorrect7.incorrect8]", "[x.y]")
    conf.write_text(loadable.replace('command = ["test command"]', 'command = ["true"]'))
    result = configtest(conf)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "unexpected key" in line]
    assert lines == [
        "[WARNING] filesystems.use_mntpoint is unexpected key. "
        "Did you mean filesystems.use_mountpoint ?",
        "[WARNING] foobar is unexpected key.",
        "[WARNING] plugin.check.incorrect2 is unexpected key. "
        "Did you mean plugin.checks.incorrect2 ?",
        "[WARNING] plugin.check.incorrect3 is unexpected key. "
        "Did you mean plugin.checks.incorrect3 ?",
        "[WARNING] plugin.checks.incorrect9.action.en is unexpected key. "
        "Did you mean plugin.checks.incorrect9.action.env ?",
        "[WARNING] plugin.foo.bar is unexpected key. Did you mean plugin.metrics.bar ?",
        "[WARNING] plugin.metric.incorrect1 is unexpected key. "
        "Did you mean plugin.metrics.incorrect1 ?",
        "[WARNING] plugin.metrics.incorrect5.action.use is unexpected key. "
        "Did you mean plugin.metrics.incorrect5.action.user ?",
        "[WARNING] plugin.metrics.incorrect6.action.xxx is unexpected key.",
        "[WARNING] plugins is unexpected key. Did you mean plugin ?",
        "[WARNING] podfile is unexpected key. Did you mean pidfile ?",
        "[WARNING] x is unexpected key.",
    ]


def test_configtest_passes_with_a_plugin_command_not_installed_yet(tmp_path: Path) -> None:
    """mackerel-agent's rpm init script runs configtest before a reload: a check whose
    command is not on the PATH yet (or a relative script name) warns but passes."""
    conf = tmp_path / "mackerel-agent.conf"
    conf.write_text(
        'apikey = "x"\n[plugin.checks.ssh]\ncommand = "check-not-installed-yet -p 22"\n'
        '[plugin.metrics.local]\ncommand = "./my-plugin.sh"\n'
    )
    result = configtest(conf)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == f"SUCCESS ({conf})"
    assert "[WARNING] plugin.checks.ssh.command: check-not-installed-yet not found" in lines


def test_supervise_holds_the_pidfile_as_mackerel_agents_init_scripts_expect(
    server: FaultServer, tmp_path: Path
) -> None:
    """rpm init script: `supervise --pidfile=$PIDFILE --root=$ROOT`, then `killproc -p`."""
    pidfile = tmp_path / "mackerel-agent.pid"
    conf = write_config(tmp_path, server.url)
    command = [*AGENT, "supervise", f"--pidfile={pidfile}", f"--root={tmp_path / 'root'}",
               "-conf", str(conf), "-timings", FAST_TIMINGS]  # fmt: skip
    supervisor = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: pidfile.exists() and pidfile.read_text() == str(supervisor.pid))
        wait_until(lambda: len(server.stored) > 0)  # its child runs the agent
    finally:
        assert stop(supervisor) == 0
    assert not pidfile.exists()
