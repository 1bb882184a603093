"""External HTTP monitors: one request per monitor and minute, judged by status code,
body content, response time and certificate expiry.

One deadline, the monitor's `timeoutSeconds`, bounds the whole check (connect, send, the
response, the certificate check): a target that trickles is a timeout for its monitor
only. The response counts once its body has arrived or `MAX_BODY_BYTES` of it have (the
rest is never read); `containsString` is searched in those bytes. Connections obey the
server's `OutboundPolicy`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from cryptography import x509

from sabamon.server.alerts.monitors import Monitor
from sabamon.server.outbound import OutboundPolicy, failure_text, outbound_client, read_prefix

DEFAULT_TIMEOUT = 10.0
MAX_BODY_BYTES = 1024 * 1024
"""Bytes of a response body read for `containsString`; the rest is never read."""
RESPONSE_TIME_METRIC = "__externalhttp.responsetime.{monitor_id}"


@dataclass(frozen=True)
class ExternalResult:
    status: str  # OK / WARNING / CRITICAL from status code, body and certificate
    message: str
    response_time_ms: float | None  # None when no response came back


async def certificate_days_left(host: str, port: int, timeout: float, now: float) -> float:
    """Days until the server certificate's notAfter (read without verifying it)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    _, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=context, server_hostname=host), timeout
    )
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object else None
    finally:
        writer.close()
    if not der:
        raise ssl.SSLError("no peer certificate")
    not_after = x509.load_der_x509_certificate(der).not_valid_after_utc
    return (not_after - dt.datetime.fromtimestamp(now, dt.UTC)).total_seconds() / 86400


def _status_ok(monitor: Monitor, code: int) -> bool:
    expected = monitor.get("expectedStatusCode")
    return code == expected if expected is not None else 200 <= code < 400


async def _certificate_status(monitor: Monitor, now: float, timeout: float) -> tuple[str, str]:
    warning = monitor.get("certificationExpirationWarning")
    critical = monitor.get("certificationExpirationCritical")
    parts = urlsplit(monitor.get("url"))
    if parts.scheme != "https" or (warning is None and critical is None):
        return "OK", ""
    days = await certificate_days_left(parts.hostname or "", parts.port or 443, timeout, now)
    message = f"certificate expires in {days:.1f} days"
    if critical is not None and days < critical:
        return "CRITICAL", message
    if warning is not None and days < warning:
        return "WARNING", message
    return "OK", ""


async def check(
    monitor: Monitor, now: float, outbound: OutboundPolicy | None = None
) -> ExternalResult:
    """Runs the monitor's request. Failures are results, never exceptions."""
    timeout = float(monitor.get("timeoutSeconds") or DEFAULT_TIMEOUT)
    try:
        async with asyncio.timeout(timeout):
            return await _check(monitor, now, timeout, outbound or OutboundPolicy())
    except TimeoutError:
        return ExternalResult("CRITICAL", f"timeout after {timeout:g} s", None)
    except Exception as exc:  # a request that cannot be made (a URL or header stored before
        # the save-time checks, `outbound.url_problem`) fails its own monitor, not the batch
        return ExternalResult("CRITICAL", f"request failed: {failure_text(exc)}", None)


async def _check(
    monitor: Monitor, now: float, timeout: float, outbound: OutboundPolicy
) -> ExternalResult:
    headers = {h["name"]: h["value"].encode() for h in monitor.get("headers") or []}
    verify = not monitor.get("skipCertificateVerification", False)
    follow = bool(monitor.get("followRedirect"))
    started = time.perf_counter()
    try:
        async with (
            outbound_client(outbound, timeout, verify=verify, follow_redirects=follow) as client,
            client.stream(
                monitor.get("method", "GET"),
                monitor.get("url"),
                headers=headers,
                content=(monitor.get("requestBody") or "").encode() or None,
            ) as response,
        ):
            body = await read_prefix(response, MAX_BODY_BYTES)
        elapsed = (time.perf_counter() - started) * 1000
    except httpx.TimeoutException:
        return ExternalResult("CRITICAL", f"timeout after {timeout:g} s", None)
    except httpx.HTTPError as exc:
        return ExternalResult("CRITICAL", f"request failed: {failure_text(exc)}", None)
    if not _status_ok(monitor, response.status_code):
        return ExternalResult("CRITICAL", f"status {response.status_code}", elapsed)
    wanted = monitor.get("containsString")
    if wanted and wanted not in body.decode(response.encoding or "utf-8", "replace"):
        return ExternalResult("CRITICAL", f"response does not contain {wanted!r}", elapsed)
    try:
        status, message = await _certificate_status(monitor, now, timeout)
    except (OSError, ssl.SSLError) as exc:
        return ExternalResult("CRITICAL", f"certificate check failed: {exc}", elapsed)
    return ExternalResult(status, message or f"status {response.status_code}", elapsed)


async def check_all(
    monitors: list[Monitor],
    now: float,
    concurrency: int = 50,
    outbound: OutboundPolicy | None = None,
) -> dict[str, ExternalResult]:
    """Runs every monitor's request, at most `concurrency` at a time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(monitor: Monitor) -> tuple[str, ExternalResult]:
        async with gate:
            return monitor.id, await check(monitor, now, outbound)

    return dict(await asyncio.gather(*(one(m) for m in monitors)))
