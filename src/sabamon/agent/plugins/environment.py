"""The environment every plugin runs in, as mackerel-agent sets it for itself and its children."""

from __future__ import annotations

from collections.abc import Mapping

PLUGIN_BIN_DIR = "/opt/mackerel-agent/plugins/bin"
SYSTEM_PATH = "/sbin:/usr/sbin:/bin:/usr/bin"


def plugin_search_path(agent_env: Mapping[str, str]) -> str:
    """`/sbin:/usr/sbin:/bin:/usr/bin:$PATH:/opt/mackerel-agent/plugins/bin`."""
    parts = [SYSTEM_PATH, agent_env.get("PATH", ""), PLUGIN_BIN_DIR]
    return ":".join(part for part in parts if part)


def plugin_environment(agent_env: Mapping[str, str], *layers: Mapping[str, str]) -> dict[str, str]:
    """The agent's environment with the plugin PATH and the C locale, then each layer on top
    (the plugin's `env`, then the variables the agent passes, such as MACKEREL_STATUS)."""
    env = dict(agent_env)
    env.update(PATH=plugin_search_path(agent_env), LANG="C", LC_ALL="C")
    for layer in layers:
        env.update(layer)
    return env
