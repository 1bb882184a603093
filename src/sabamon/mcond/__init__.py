"""A condition variable shared by processes, wire-compatible with y-matsuwitter/mcond.

State lives in Redis (``mcond:processing:<key>``, ``mcond:complete:<key>``); a node
wakes its peers' waiters with ``GET /cache/broadcast/<key>``. See ``MCondOption`` for
what differs from the Go original: no relay storms, bounded peer calls, polling waiters,
quoted keys, loopback by default and an optional shared secret.

The names below are imported on first use, so a process that only needs a submodule
without Redis (``signals``, ``option``) does not load redis-py.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sabamon.mcond.aio import AsyncMCond
    from sabamon.mcond.blocking import MCond
    from sabamon.mcond.option import MCondOption
    from sabamon.mcond.signals import UnknownKeyError
    from sabamon.mcond.signing import SIGNATURE_HEADER
    from sabamon.mcond.state import MCondStateError

__all__ = [
    "SIGNATURE_HEADER",
    "AsyncMCond",
    "MCond",
    "MCondOption",
    "MCondStateError",
    "UnknownKeyError",
]

_HOMES = {
    "SIGNATURE_HEADER": "signing",
    "AsyncMCond": "aio",
    "MCond": "blocking",
    "MCondOption": "option",
    "MCondStateError": "state",
    "UnknownKeyError": "signals",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
