"""The `sabamon` entry point: dispatches to each part's own command line.

Each part is imported only when its command runs, so `sabamon agent` never loads the
server's dependencies.
"""

from __future__ import annotations

import importlib
import sys

from sabamon import __version__

COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("sabamon.up", "set up and start a server with a local agent (the main job)"),
    "server": ("sabamon.server.cli", "run the server"),
    "apikey": ("sabamon.server.cli", "create, list and revoke API keys"),
    "user": ("sabamon.server.cli", "add dashboard users and set passwords"),
    "migrate-series": (
        "sabamon.server.store.migrate_series",
        "convert stored series to sealed chunks, in place (resumable)",
    ),
    "agent": ("sabamon.agent.cli", "run the agent, or one of its subcommands"),
    "bench": ("sabamon.bench.cli", "load-test a server with a simulated fleet"),
}


def usage() -> str:
    lines = ["usage: sabamon COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<14} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run `sabamon COMMAND --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if args else 2
    if args[0] in ("--version", "version"):
        print(f"sabamon {__version__}")
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"sabamon: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    result: int = module.main(command, rest)
    return result


if __name__ == "__main__":
    sys.exit(main())
