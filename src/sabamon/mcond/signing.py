"""The optional shared secret: a signed, timestamped header on every broadcast call.

Header ``X-Mcond-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>\\n<path>")>``,
where ``<path>`` is the request path as sent (``/cache/broadcast/<quoted key>``). A call
is accepted when the MAC matches and ``t`` is within ``max_skew`` seconds of the
receiver's clock. The secret itself never travels; a replay inside the window can only
cause one more wake-up, and woken waiters re-check Redis anyway.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Mcond-Signature"
MAX_SKEW_SECONDS = 300.0


def _mac(secret: str, timestamp: int, path: str) -> str:
    message = f"{timestamp}\n{path}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, path: str, now: float) -> str:
    """The header value for a call to ``path`` made at ``now`` (unix seconds)."""
    timestamp = int(now)
    return f"t={timestamp},v1={_mac(secret, timestamp, path)}"


def verify(
    secret: str, path: str, header: str | None, now: float, max_skew: float = MAX_SKEW_SECONDS
) -> str | None:
    """``None`` when ``header`` is a valid signature of ``path``, else the reason it is not."""
    if not header:
        return f"missing {SIGNATURE_HEADER} header"
    fields = dict(part.partition("=")[::2] for part in header.split(","))
    timestamp_text, mac = fields.get("t", ""), fields.get("v1", "")
    if not timestamp_text.isdigit() or not mac:
        return f"malformed {SIGNATURE_HEADER} header, expected t=<unix seconds>,v1=<hex>"
    timestamp = int(timestamp_text)
    if abs(now - timestamp) > max_skew:
        return f"{SIGNATURE_HEADER} timestamp is more than {max_skew:g} s off"
    if not hmac.compare_digest(mac, _mac(secret, timestamp, path)):
        return f"{SIGNATURE_HEADER} does not match"
    return None
