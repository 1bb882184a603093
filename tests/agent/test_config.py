"""Config loading and `sabamon agent configtest` messages (real files, real subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sabamon.agent.config import load_config
from sabamon.agent.errors import ConfigError

MACKEREL_CONF = """\
apikey = "abcde"
display_name = "web01"
roles = ["service:web", "service:db"]
include = "{include}"
cloud_platform = "none"

[host_status]
on_start = "working"
on_stop = "poweroff"

[filesystems]
ignore = "/dev/ram.*"
use_mountpoint = true

[disks]
ignore = "loop[0-9]+"

[interfaces]
ignore = "docker.*"

[plugin.metrics.nginx]
command = "mackerel-plugin-nginx"

[plugin.checks.ssh]
command = ["check-ssh", "-p", "22"]
memo = "ssh"
"""


def configtest(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sabamon.cli", "agent", "configtest", "--conf", str(conf)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_mackerel_agent_conf_loads_as_is(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "conf.d" / "a.conf").write_text(
        '[plugin.metrics.nginx]\ncommand = "other"\n[host_status]\non_start = "standby"\n'
    )
    conf = tmp_path / "mackerel-agent.conf"
    conf.write_text(MACKEREL_CONF.format(include=f"{tmp_path}/conf.d/*.conf"))
    config = load_config(conf)
    assert config.apikey == "abcde" and config.roles == ["service:web", "service:db"]
    assert config.on_start == "standby" and config.on_stop == "poweroff"  # merged key by key
    assert config.plugins.metrics[0].command.command == "other"  # same-named plugin replaced
    assert config.filesystems_ignore is not None and config.filesystems_ignore.match("/dev/ram0")
    assert config.warnings == []


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ('apikey = "x"\n\n[disks]\nignore = "(("\n', "disks.ignore", 4),
        ('apikey = "x"\ncloud_platform = "aws"\n', "cloud_platform", 2),
        ('apikey = "x"\n[host_status]\non_start = "up"\n', "host_status.on_start", 3),
        ('apikey = "x"\n[plugin.checks.a]\ncommand = 3\n', "plugin.checks.a.command", 3),
        ('apikey = "x"\n[spool]\nmax_bytes = "big"\n', "spool.max_bytes", 3),
    ],
)
def test_errors_name_key_and_line(tmp_path: Path, text: str, key: str, line: int) -> None:
    conf = tmp_path / "agent.conf"
    conf.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(conf)
    assert (caught.value.key, caught.value.line) == (key, line)


def test_configtest_success(tmp_path: Path) -> None:
    conf = tmp_path / "agent.conf"
    conf.write_text('apikey = "x"\n[spool]\nmax_bytes = 1048576\n')
    result = configtest(conf)
    assert result.returncode == 0 and result.stderr.strip() == f"SUCCESS ({conf})"


def test_configtest_warns_with_suggestions(tmp_path: Path) -> None:
    conf = tmp_path / "agent.conf"
    conf.write_text(
        'apikey = "x"\napibse = "y"\n[host_status]\non_strat = "working"\n'
        '[plugin.metric.a]\ncommand = "x"\n[connection]\npost_metrics_retry_max = 3\n'
    )
    result = configtest(conf)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines == [
        "[WARNING] apibse is unexpected key. Did you mean apibase ?",
        "[WARNING] connection is unexpected key.",
        "[WARNING] host_status.on_strat is unexpected key. Did you mean host_status.on_start ?",
        "[WARNING] plugin.metric.a is unexpected key. Did you mean plugin.metrics.a ?",
    ]


def test_configtest_reports_plugin_commands_that_cannot_be_found(tmp_path: Path) -> None:
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\necho x\n")
    conf = tmp_path / "agent.conf"
    conf.write_text(
        'apikey = "x"\n'
        '[plugin.metrics.gone]\ncommand = "/nonexistent/plugin --flag"\n'
        f'[plugin.checks.noexec]\ncommand = ["{script}"]\n'
        '[plugin.metadata.fine]\ncommand = "true"\n'
    )
    result = configtest(conf)
    assert result.returncode == 0  # a notice, not a config error, as in mackerel-agent
    lines = result.stderr.splitlines()
    assert "[WARNING] plugin.metrics.gone.command: /nonexistent/plugin not found" in lines
    assert f"[WARNING] plugin.checks.noexec.command: {script} is not executable" in lines
    assert not any("plugin.metadata.fine" in line for line in lines)


def test_configtest_parse_error_has_the_line(tmp_path: Path) -> None:
    conf = tmp_path / "agent.conf"
    conf.write_text('apikey = "x"\nverbose = tru\n')
    result = configtest(conf)
    assert result.returncode == 1
    assert result.stderr.startswith("[CRITICAL] failed to test config:")
    assert "(line 2)" in result.stderr
