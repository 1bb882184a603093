"""Registering or finding this host at startup (spec/agent.md §1 `prepareHost`, §6)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sabamon.agent.api import AgentApi, ApiError, is_client_error
from sabamon.agent.idfile import id_path, load_host_id, save_host_id

log = logging.getLogger(__name__)
T = TypeVar("T")


class StartupError(Exception):
    """The agent cannot start; the message says what to do."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 20
    delay: float = 3.0


def with_retries(call: Callable[[], T], policy: RetryPolicy, what: str) -> T:
    """Retry 5xx and network errors; a 4xx, or the last failure, is raised."""
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except ApiError as err:
            if is_client_error(err) or attempt == policy.attempts:
                raise
            log.warning("event=retry call=%s attempt=%d error=%r", what, attempt, str(err))
            time.sleep(policy.delay)
    raise AssertionError("unreachable")


def prepare_host(
    api: AgentApi,
    root: Path,
    spec: dict[str, Any],
    on_start: str = "",
    policy: RetryPolicy = RetryPolicy(),
) -> str:
    """Return this host's id: from the id file, by the cloud custom identifier, or by
    registering; save it to the id file and set the `on_start` status."""
    host_id = load_host_id(root)
    if host_id is None:
        host_id = _find_or_register(api, spec, policy)
        host = _get(api, host_id, policy, hint="")
    else:
        host = _get(api, host_id, policy, hint=f"; delete {id_path(root)} to register anew")
        theirs, ours = host.get("customIdentifier") or "", spec.get("customIdentifier") or ""
        if theirs and theirs != ours:
            raise StartupError(
                f"the id file {id_path(root)} names host {host_id} whose custom identifier "
                f"{theirs!r} is not this host's ({ours!r}): was it copied from another host? "
                "Delete it to register this host"
            )
    if on_start and host.get("status") != on_start:
        try:
            with_retries(lambda: api.update_host_status(host_id, on_start), policy, "status")
        except ApiError as err:
            raise StartupError(f"could not set the host status {on_start!r}: {err}") from err
    save_host_id(root, host_id)
    log.info("event=host_ready host_id=%s", host_id)
    return host_id


def _find_or_register(api: AgentApi, spec: dict[str, Any], policy: RetryPolicy) -> str:
    custom_identifier = spec.get("customIdentifier")
    if custom_identifier:
        try:
            hosts = with_retries(
                lambda: api.find_hosts_by_custom_identifier(custom_identifier),
                RetryPolicy(3, 2.0 * policy.delay / 3.0),
                "find_host_by_custom_identifier",
            )
        except ApiError as err:
            log.warning("event=find_by_custom_identifier_failed error=%r", str(err))
            hosts = []
        if hosts:
            return str(hosts[0]["id"])
        log.info("event=host_not_found custom_identifier=%s", custom_identifier)
    try:
        return with_retries(lambda: api.create_host(spec), policy, "create_host")
    except ApiError as err:
        if is_client_error(err):
            raise StartupError(
                f"the server refused to register this host ({err.status}: {err.message}); "
                "check the apikey (it needs write access) and the apibase"
            ) from err
        raise StartupError(f"could not register this host: {err}") from err


def _get(api: AgentApi, host_id: str, policy: RetryPolicy, hint: str) -> dict[str, Any]:
    try:
        return with_retries(lambda: api.find_host(host_id), policy, "find_host")
    except ApiError as err:
        if err.status in (401, 403):
            hint = "; check the apikey"
        raise StartupError(f"could not find host {host_id}: {err}{hint}") from err


def resolve_custom_identifiers(api: AgentApi, identifiers: set[str]) -> dict[str, str]:
    """Host ids of the plugins' custom identifiers; unresolved ones are logged and dropped."""
    resolved: dict[str, str] = {}
    for identifier in sorted(identifiers):
        try:
            hosts = api.find_hosts_by_custom_identifier(identifier)
        except ApiError as err:
            log.error("event=custom_identifier_failed identifier=%s error=%r", identifier, str(err))
            continue
        if hosts:
            resolved[identifier] = str(hosts[0]["id"])
        else:
            log.error("event=custom_identifier_unknown identifier=%s data=dropped", identifier)
    return resolved
