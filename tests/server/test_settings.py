"""`ServerSettings`: flags and variables in, one hand-over to the workers, the same out."""

from __future__ import annotations

import argparse
import ast
import re
from dataclasses import replace
from pathlib import Path

import pytest

import sabamon.server
from sabamon.server.cluster import ClusterSettings
from sabamon.server.connections import RESERVED_FILES, ConnectionLimits
from sabamon.server.notify.email import SmtpSettings
from sabamon.server.settings import HANDOVER_ENV, ServerSettings
from sabamon.server.shedding import SheddingLimits


def parse(argv: list[str], environ: dict[str, str] | None = None) -> ServerSettings:
    parser = argparse.ArgumentParser(prog="sabamon server")
    ServerSettings.add_arguments(parser)
    return ServerSettings.from_args(parser, parser.parse_args(argv), environ or {})


def test_the_workers_get_what_the_flags_said(tmp_path: Path) -> None:
    settings = parse(
        ["--data", str(tmp_path), "--listen", "0.0.0.0:9090", "--workers", "3",
         "--db", "postgresql://db/sabamon", "--series-store", "http://vm:8428",
         "--max-in-flight", "64", "--max-wait", "0.5", "--shed-retry-after", "2",
         "--header-timeout", "3", "--idle-timeout", "90", "--max-connections", "500",
         "--max-connections-per-address", "9", "--outbound-networks", "10.0.0.0/8",
         "--redis", "redis://127.0.0.1:6379/2", "--cluster-ttl", "12",
         "--cluster-heartbeat", "4", "--smtp-host", "mail", "--smtp-starttls",
         "--max-series-per-org", "1000"],
        {"SABAMON_PUBLIC_URL": "https://mon.example.com/", "SABAMON_SMTP_PORT": "2525",
         "SABAMON_CLOCK_SCALE": "60", "SABAMON_CLOCK_ANCHOR": "1700000000"},
    )  # fmt: skip
    assert settings.public_url == "https://mon.example.com"
    assert settings.max_series_per_org == 1000
    assert settings.connections == ConnectionLimits(
        header_timeout=3, max_per_address=9, idle_timeout=90, max_connections=500
    )
    assert settings.shedding == SheddingLimits(max_in_flight=64, max_wait=0.5, retry_after=2)
    assert settings.cluster == ClusterSettings(
        "redis://127.0.0.1:6379/2", heartbeat_interval=4, member_ttl=12
    )
    assert settings.smtp == SmtpSettings(host="mail", port=2525, starttls=True)
    assert (settings.time_base.scale, settings.time_base.anchor) == (60, 1_700_000_000)
    environ: dict[str, str] = {"SABAMON_SMTP_PASSWORD": "s3cret"}
    settings.export(environ)
    assert "s3cret" not in environ[HANDOVER_ENV]
    assert environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path.resolve() / "worker-metrics")
    handed = ServerSettings.from_environment(environ)
    assert handed.smtp.password == "s3cret"
    assert handed == replace(settings, smtp=handed.smtp)
    assert handed.smtp == SmtpSettings(host="mail", port=2525, starttls=True, password="s3cret")


def test_defaults_and_the_listen_address_as_public_url(tmp_path: Path) -> None:
    settings = parse(["--data", str(tmp_path), "--listen", "127.0.0.1:8181"])
    assert settings.public_url == "http://127.0.0.1:8181"
    assert settings.cluster is None and settings.smtp == SmtpSettings()
    environ: dict[str, str] = {}
    settings.export(environ)
    assert list(environ) == [HANDOVER_ENV]  # one worker: no multiprocess folder
    assert ServerSettings.from_environment(environ) == settings


def test_maintenance_has_its_own_process_on_postgresql_unless_told(tmp_path: Path) -> None:
    where = ["--data", str(tmp_path), "--db", "postgresql://db/sabamon"]
    settings = parse(where)
    assert (settings.maintenance, settings.processes) == ("process", 2)
    environ: dict[str, str] = {}
    settings.export(environ)  # the maintainer's figures reach the one worker's /metrics
    assert environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path.resolve() / "worker-metrics")
    assert ServerSettings.from_environment(environ) == settings
    told = parse([*where, "--maintenance", "worker", "--workers", "2"])
    assert (told.maintenance, told.processes) == ("worker", 2)
    assert parse(["--data", str(tmp_path)]).maintenance == "worker"  # SQLite: one writer
    clustered = parse([*where, "--redis", "redis://127.0.0.1:6379/2"])
    assert clustered.maintenance == "worker"  # one member maintains for the cluster


def test_the_connection_cap_stays_below_the_open_files_limit() -> None:
    limits = ConnectionLimits(max_connections=10_000)
    assert limits.within_open_files(1024).max_connections == 1024 - RESERVED_FILES
    assert limits.within_open_files(1_048_576) == limits
    assert limits.within_open_files(10).max_connections == 1


@pytest.mark.parametrize(
    ("argv", "environ", "named"),
    [
        (["--workers", "0"], {}, "--workers"),
        (["--max-wait", "0"], {}, "--max-in-flight, --max-wait"),
        (["--shed-retry-after", "0"], {}, "--shed-retry-after: retry_after"),
        (["--outbound-networks", "10.0.0.0/33"], {}, "--outbound-networks"),
        (["--max-series-per-org", "0"], {}, "--max-series-per-org"),
        (["--idle-timeout", "0"], {}, "--idle-timeout"),
        (["--max-connections", "0"], {}, "--max-connections"),
        (["--public-url", "ftp://x"], {}, "--public-url"),
        ([], {"SABAMON_SMTP_PORT": "smtp"}, "SABAMON_SMTP_PORT='smtp'"),
        (["--redis", "http://x"], {}, "--redis"),
        (["--redis", "redis://x/0", "--cluster-heartbeat", "40"], {}, "heartbeat"),
        ([], {"SABAMON_CLOCK_SCALE": "0"}, "SABAMON_CLOCK_SCALE"),
        (["--maintenance", "process"], {}, "--maintenance process: needs --db"),
        (
            ["--db", "postgresql://db/s", "--redis", "redis://x/0", "--maintenance", "process"],
            {},
            "--maintenance process: not with --redis",
        ),
        (["--maintenance", "elsewhere"], {}, "--maintenance: invalid choice"),
    ],
)
def test_a_bad_setting_exits_naming_it(
    argv: list[str], environ: dict[str, str], named: str, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    with pytest.raises(SystemExit) as exited:
        parse(["--data", str(tmp_path), *argv], environ)
    assert exited.value.code == 2
    assert named in capsys.readouterr().err


def test_only_the_settings_module_names_sabamon_variables() -> None:
    """A `SABAMON_*` name written as a string anywhere else in the server would be a
    setting that skips `ServerSettings` (docstrings may mention them)."""
    root = Path(sabamon.server.__file__).parent
    found = []
    for path in root.rglob("*.py"):
        if path.name == "settings.py" and path.parent == root:
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and re.search(r"SABAMON_[A-Z]", node.value)
            ):
                found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value[:60]!r}")
    assert found == []
