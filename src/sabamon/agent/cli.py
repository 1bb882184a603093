"""`sabamon agent [SUBCOMMAND] [FLAGS]` (spec/agent.md §2).

Subcommands: (none) run, `once`, `init -apikey KEY`, `configtest`, `retire [-force]`,
`version`, `supervise`. Flags take mackerel-agent's Go spellings (`-conf=FILE`, `-conf FILE`)
as well as `--conf FILE`. Default paths depend on the user (see `sabamon.agent.paths`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import platform
import sys
import threading
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from sabamon import __version__
from sabamon.agent.api import REVISION, AgentApi, ApiError
from sabamon.agent.config import AgentConfig, load_config, valid_roles
from sabamon.agent.errors import ConfigError
from sabamon.agent.goflags import GoFlagError, go_style_argv
from sabamon.agent.host import RetryPolicy, StartupError, with_retries
from sabamon.agent.idfile import IdFileError, load_host_id, remove_host_id
from sabamon.agent.loop import LoopTimings
from sabamon.agent.paths import default_paths
from sabamon.agent.pidfile import PidfileError, create_pidfile, remove_pidfile
from sabamon.logfmt import setup_logging as configure_logging

SUBCOMMANDS = ("once", "init", "configtest", "retire", "version", "supervise")
log = logging.getLogger("sabamon.agent")


# (flag, takes a value, help); every one also reads as mackerel-agent spells it (`goflags`).
FLAGS: tuple[tuple[str, bool, str | None], ...] = (
    ("conf", True, "config file (default: per-user or system path)"),
    ("apibase", True, "API base URL"),
    ("apikey", True, "API key (better kept in the config file)"),
    ("root", True, "folder for the id file and the spool"),
    ("pidfile", True, "pidfile path; empty disables"),
    ("role", True, "service:role, repeatable or comma-separated"),
    ("verbose", False, "debug logging"),
    ("v", False, "debug logging (shorthand)"),
    ("diagnostic", False, "post the agent's own footprint"),
    ("force", False, "retire: do not ask"),
    ("child", False, None),
    ("private-autoshutdown", False, None),  # mackerel-agent's updater knob: accepted, ignored
    ("timings", True, None),  # test and bench knob: "post_interval=1,startup_attempts=2"
    ("launch-window", True, None),  # supervise's test knob, read by `agent.supervise`
)
BOOL_FLAGS = frozenset(name for name, takes_value, _ in FLAGS if not takes_value)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sabamon agent", description=__doc__)
    for name, takes_value, text in FLAGS:
        shown = text or argparse.SUPPRESS
        dest = "verbose" if name == "v" else name.replace("-", "_")
        if name == "role":
            p.add_argument(f"--{name}", action="append", default=[], help=shown)
        elif takes_value:
            p.add_argument(f"--{name}", default="" if name == "timings" else None, help=shown)
        else:
            p.add_argument(f"--{name}", dest=dest, action="store_true", help=shown)
    return p


def parse_args(argv: list[str]) -> argparse.Namespace:
    """argparse over the Go spellings too: `-conf=F`, `-conf F`, `-force`, `-v=false`."""
    names = {"h", "help", *(name for name, _, _ in FLAGS)}
    try:
        return parser().parse_args(go_style_argv(argv, names, BOOL_FLAGS | {"h", "help"}))
    except GoFlagError as err:
        parser().error(str(err))
        raise  # unreachable: error() exits


def parse_timings(text: str) -> tuple[LoopTimings, RetryPolicy]:
    values: dict[str, float] = {}
    for item in filter(None, text.split(",")):
        key, _, value = item.partition("=")
        values[key.strip()] = float(value)
    retry = RetryPolicy(
        int(values.pop("startup_attempts", RetryPolicy.attempts)),
        values.pop("startup_retry_delay", RetryPolicy.delay),
    )
    fields = {f.name: f.type for f in dataclasses.fields(LoopTimings)}
    unknown = set(values) - set(fields)
    if unknown:
        raise SystemExit(f"sabamon agent: unknown --timings keys: {sorted(unknown)}")
    typed = {k: int(v) if fields[k] in (int, "int") else v for k, v in values.items()}
    return LoopTimings(**typed), retry  # type: ignore[arg-type]


def setup_logging(verbose: bool, silent: bool) -> None:
    level = logging.DEBUG if verbose else logging.ERROR if silent else logging.INFO
    configure_logging(level)


def resolve_config(args: argparse.Namespace) -> AgentConfig:
    """The config file (a missing default file means defaults) with CLI flags on top."""
    conf = Path(args.conf) if args.conf else default_paths().conf
    config = load_config(conf if args.conf or conf.exists() else None)
    config.path = conf
    if args.apibase:
        config.apibase = args.apibase
    if args.apikey:
        config.apikey = args.apikey
    if args.root:
        config.root = Path(args.root)
    if args.pidfile is not None:
        config.pidfile = args.pidfile
    config.verbose = config.verbose or args.verbose
    config.diagnostic = config.diagnostic or args.diagnostic
    if args.role:
        roles, invalid = valid_roles(args.role)
        for role in invalid:
            print(f"sabamon agent: ignoring invalid role {role!r}", file=sys.stderr)
        config.roles = roles
    return config


def main(command: str, argv: list[str]) -> int:
    subcommand = argv[0] if argv and argv[0] in SUBCOMMANDS else "run"
    rest = argv[1:] if subcommand != "run" else argv
    if subcommand == "supervise":
        return do_supervise(rest)
    if subcommand == "version":
        print(
            f"sabamon-agent version {__version__} (rev {REVISION}) "
            f"[{platform.system().lower()} {platform.machine()} python{platform.python_version()}]"
        )
        return 0
    args = parse_args(rest)
    if subcommand == "init":
        return do_init(args)
    try:
        config = resolve_config(args)
    except ConfigError as err:
        if subcommand == "configtest":
            print(f"[CRITICAL] failed to test config: {err}", file=sys.stderr)
        elif subcommand != "once":
            print(f"sabamon agent: config error: {err}", file=sys.stderr)
        if subcommand != "once":
            return 1
        config = AgentConfig()
    setup_logging(config.verbose, config.silent)
    if subcommand == "configtest":
        return do_configtest(config)
    if subcommand == "once":
        return do_once(config)
    if subcommand == "retire":
        return do_retire(config, args.force)
    return do_run(config, args)


def do_supervise(argv: list[str]) -> int:
    """As mackerel-agent's supervise: the config must load, and the supervisor holds the
    pidfile (`-pidfile`, default path; its child runs with `-child` and writes none), so
    init scripts that read it (`killproc -p $PIDFILE`) find the supervisor."""
    from sabamon.agent.supervise import supervise

    try:
        config = resolve_config(parse_args(argv))
    except ConfigError as err:
        print(f"sabamon agent: config error: {err}", file=sys.stderr)
        return 1
    pidfile = None if config.pidfile == "" else Path(config.pidfile or default_paths().pidfile)
    try:
        if pidfile is not None:
            create_pidfile(pidfile)
    except PidfileError as err:
        print(f"sabamon agent: {err}", file=sys.stderr)
        return 1
    try:
        return supervise(argv)
    finally:
        if pidfile is not None:
            remove_pidfile(pidfile)


def do_configtest(config: AgentConfig) -> int:
    """mackerel-agent's configtest: unexpected keys print its warning lines and exit 1.
    sabamon's own notices (a plugin command not found yet, a key another plugin kind uses)
    print too, but exit 0 as mackerel-agent would: the rpm init script gates reload on it."""
    from sabamon.agent.plugins.config import missing_commands

    notices = [*config.notices]
    notices += [f"[WARNING] {problem}" for problem in missing_commands(config.plugins)]
    for line in [*config.warnings, *notices]:
        print(line, file=sys.stderr)
    if config.warnings:
        return 1
    print(f"SUCCESS ({config.path})", file=sys.stderr)
    return 0


def do_init(args: argparse.Namespace) -> int:
    if not args.apikey:
        print("sabamon agent init: -apikey option is required", file=sys.stderr)
        return 1
    conf = Path(args.conf) if args.conf else default_paths().conf
    text = conf.read_text() if conf.exists() else ""
    try:
        existing = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        print(f"sabamon agent init: {conf} is not valid TOML: {err}", file=sys.stderr)
        return 1
    if existing.get("apikey"):
        print(f"sabamon agent init: apikey already set in {conf}; nothing changed", file=sys.stderr)
        return 0
    head = f"apikey = {json.dumps(args.apikey)}\n"
    if args.apibase:
        head += f"apibase = {json.dumps(args.apibase)}\n"
    conf.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    conf.write_text(head + text)
    conf.chmod(0o644)
    return 0


def do_once(config: AgentConfig) -> int:
    from sabamon.agent.collect import Gatherer
    from sabamon.agent.metrics import CollectorOptions, linux_generators
    from sabamon.agent.plugins import Plugins
    from sabamon.agent.run import spec_builder

    plugins = Plugins.from_config(config.plugins, config.root or default_paths().root)
    options = CollectorOptions(
        config.filesystems_ignore,
        config.filesystems_use_mountpoint,
        config.disks_ignore,
        config.interfaces_ignore,
    )
    generators = [*linux_generators(options), *plugins.metric_generators()]
    timings = LoopTimings(delta_interval=1.0)
    gatherer = Gatherer(generators, lambda ci: ci or "", timings, threading.Event())
    now = int(time.time())
    values = gatherer.gather(now)
    gatherer.close()
    output = {
        "host": spec_builder(config, plugins)(),
        "metrics": {
            "Created": datetime.fromtimestamp(now, UTC).isoformat(),
            "Values": {v["name"]: v["value"] for v in values},
        },
    }
    print(json.dumps(output, indent=2, sort_keys=True))
    return 0


def do_retire(config: AgentConfig, force: bool) -> int:
    root = config.root or default_paths().root
    try:
        host_id = load_host_id(root)
    except IdFileError as err:
        print(f"sabamon agent retire: {err}", file=sys.stderr)
        return 1
    if host_id is None:
        print(f"sabamon agent retire: no id file in {root}: nothing to retire", file=sys.stderr)
        return 1
    if not force:
        answer = input(f"Retire host {host_id}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            return 1
    api = AgentApi(config.apibase, config.apikey)
    try:
        with_retries(lambda: api.retire_host(host_id), RetryPolicy(10, 3.0), "retire")
    except ApiError as err:
        print(f"sabamon agent retire: {err}", file=sys.stderr)
        return 1
    remove_host_id(root)
    print(f"retired host {host_id}", file=sys.stderr)
    return 0


def do_run(config: AgentConfig, args: argparse.Namespace) -> int:
    from sabamon.agent.run import RunSettings, run_agent

    if not config.apikey:
        print(
            f"sabamon agent: apikey must be set in {config.path} or given with --apikey",
            file=sys.stderr,
        )
        return 1
    paths = default_paths()
    root = config.root or paths.root
    pidfile = None if config.pidfile == "" or args.child else Path(config.pidfile or paths.pidfile)
    timings, retry = parse_timings(args.timings)
    try:
        if pidfile is not None:
            create_pidfile(pidfile)
    except PidfileError as err:
        print(f"sabamon agent: {err}", file=sys.stderr)
        return 1
    try:
        return run_agent(RunSettings(config, root, timings, retry))
    except (StartupError, IdFileError) as err:
        log.error("event=startup_failed reason=%r", str(err))
        print(f"sabamon agent: {err}", file=sys.stderr)
        return 1
    finally:
        if pidfile is not None:
            remove_pidfile(pidfile)
