"""A condition variable shared by processes, wire-compatible with y-matsuwitter/mcond.

State lives in Redis (``mcond:processing:<key>``, ``mcond:complete:<key>``); a node
wakes its peers' waiters with ``GET /cache/broadcast/<key>``. See ``MCondOption`` for
what differs from the Go original: no relay storms, bounded peer calls, polling waiters,
quoted keys, loopback by default and an optional shared secret.
"""

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
