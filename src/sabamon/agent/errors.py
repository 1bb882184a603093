"""Errors the agent reports to the user."""

from __future__ import annotations


class ConfigError(Exception):
    """A config problem, named by its dotted key (`plugin.checks.ssh.command`). The config
    loader adds the file and line where it can find the key."""

    def __init__(self, key: str, message: str, line: int | None = None) -> None:
        self.key = key
        self.message = message
        self.line = line
        where = f" (line {line})" if line is not None else ""
        super().__init__(f"{key}{where}: {message}")
