"""The one HTTP call between nodes: ``/cache/broadcast/<key>``, any method, 200 and empty.

Both listeners hand each request to :func:`judge`, so the blocking and asyncio forms
answer byte for byte alike. Keys are URL-quoted on the way out (the Go original sends
them raw, which breaks keys holding ``?``, ``#`` or ``%``) and unquoted on the way in,
which also reads the Go original's raw keys the way Go does.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

import httpx

from sabamon.mcond.signing import SIGNATURE_HEADER, sign, verify

log = logging.getLogger(__name__)

BROADCAST_PREFIX = "/cache/broadcast/"
# Set on a call that is itself a relay, so no Python node relays it again.
RELAYED_HEADER = "X-Mcond-Relayed"


def broadcast_path(key: str) -> str:
    return BROADCAST_PREFIX + quote(key, safe="")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a listener answers, and which key (if any) the call wakes."""

    status: int
    body: bytes = b""
    key: str | None = None
    relayed: bool = False

    @property
    def content_type(self) -> str | None:
        return "application/json" if self.body else None


def _error(status: int, message: str) -> Verdict:
    return Verdict(status, json.dumps({"error": {"message": message}}).encode())


def judge(target: str, headers: Mapping[str, str], secret: str | None, now: float) -> Verdict:
    """Decide the answer to a request for ``target``; ``headers`` has lower-case names."""
    raw_path = urlsplit(target).path
    path = unquote(raw_path)
    if not path.startswith(BROADCAST_PREFIX):
        return _error(404, f"no such path {raw_path!r}; mcond answers {BROADCAST_PREFIX}<key>")
    if secret is not None:
        problem = verify(secret, raw_path, headers.get("x-mcond-signature"), now)
        if problem is not None:
            return _error(401, problem)
    relayed = headers.get(RELAYED_HEADER.lower()) is not None
    return Verdict(200, key=path[len(BROADCAST_PREFIX) :], relayed=relayed)


def outgoing_headers(path: str, secret: str | None, relayed: bool, now: float) -> dict[str, str]:
    """Headers of a call to ``path``: the signature when there is a secret, the relay mark."""
    headers = {}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret, path, now)
    if relayed:
        headers[RELAYED_HEADER] = "1"
    return headers


def accepted(peer: str, key: str, response: httpx.Response) -> bool:
    """True for a 200; anything else is logged."""
    if response.status_code == 200:
        return True
    log.warning(
        "event=mcond_broadcast_refused peer=%s key=%r status=%d body=%r",
        peer,
        key,
        response.status_code,
        response.text[:200],
    )
    return False
