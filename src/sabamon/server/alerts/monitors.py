"""Monitor definitions in Mackerel's JSON shape (api.md §6), validated field by field.

A monitor is kept as the JSON document a client sent (after validation and defaults),
so `mkr monitors pull/push` round-trips unchanged. Validation errors name the field:
`MonitorError("warning: must be a number or null")` becomes a 400.

sabamon adds optional fields against flapping; they are echoed only when set, so
Mackerel clients never see them unless someone uses them:

- `recoveryWarning`, `recoveryCritical` (numbers): hysteresis. Once WARNING (CRITICAL),
  the monitor leaves that level only when the value is back past this threshold (for
  operator `>`, at or below it). Must lie on the OK side of its threshold.
- `holdDownMinutes` (1–1440): an open alert stays open at least this long.
- `flapWindowMinutes` (2–120) with `flapThreshold` (2–100): when the status toggled
  between OK and not-OK at least `flapThreshold` times within the window, recoveries no
  longer close the alert; the toggles are counted on it (`flapCount`) and it closes
  after a whole window without a toggle.
- `timeoutSeconds` (external, 1–60, default 10): the request timeout.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from sabamon.server.alerts.expression import ExpressionError, parse_expression
from sabamon.server.outbound import header_problem, url_problem

MONITOR_TYPES = ("connectivity", "host", "service", "external", "expression")
MAX_SCOPES = 1000
MAX_SCOPE = 255
"""Names in a monitor's `scopes` (and in its `excludeScopes`), and characters of each:
every host is matched against them each minute (Mackerel documents no bound)."""
MAX_EXPRESSION = 10_000
"""Characters of an expression monitor's `expression`, parsed and evaluated each minute
(Mackerel documents no bound; the longest in its examples is under 200)."""
SCOPED_TYPES = ("host", "connectivity")
"""The types whose `scopes` and `excludeScopes` choose hosts. Other types are checked for
their shape all the same (a typo'd list is a 400, not a silent no-op) and not kept, as
any field a type does not have."""
COMPUTED_METRICS = ("cpu%", "memory%", "disk%", "swap%")
ONE_WEEK_MINUTES = 7 * 24 * 60


class MonitorError(ValueError):
    """An invalid monitor definition; the message names the field."""


@dataclass(frozen=True)
class Monitor:
    """A stored monitor: its id and the validated JSON document without the id."""

    id: str
    spec: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.spec["type"])

    @property
    def name(self) -> str:
        return str(self.spec.get("name", ""))

    def get(self, key: str, default: Any = None) -> Any:
        return self.spec.get(key, default)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, **self.spec}


def _number(body: dict[str, Any], key: str, *, nullable: bool = True) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MonitorError(f"{key}: must be a number{' or null' if nullable else ''}")
    return value


def _integer(body: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise MonitorError(f"{key}: must be an integer from {low} to {high}")
    return value


def _string(
    body: dict[str, Any], key: str, *, required: bool = False, limit: int = 0
) -> str | None:
    value = body.get(key)
    if value is None or (required and value == ""):
        if required:
            raise MonitorError(f"{key}: is required")
        return None
    if not isinstance(value, str):
        raise MonitorError(f"{key}: must be a string")
    if limit and len(value) > limit:
        raise MonitorError(f"{key}: must be at most {limit} characters")
    return value


def _bool(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is not None and not isinstance(value, bool):
        raise MonitorError(f"{key}: must be true or false")
    return value


def _string_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.strip() and len(v) <= MAX_SCOPE for v in value
    ):
        raise MonitorError(
            f"{key}: must be a list of 'service' or 'service:role' names"
            f" (at most {MAX_SCOPE} characters each)"
        )
    if len(value) > MAX_SCOPES:
        raise MonitorError(f"{key}: at most {MAX_SCOPES} names")
    return list(value)  # echoed as sent ("svc: role" too); `scope_name` compares them


@functools.lru_cache(maxsize=65536)
def scope_name(scope: str) -> str:
    """A scope as a host's names spell it: "Hatena-Bookmark: db-master" (the spelling on
    Mackerel's monitors API page) matches role "Hatena-Bookmark:db-master"."""
    return ":".join(part.strip() for part in scope.split(":", 1))


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        out[key] = value


def _thresholds(
    body: dict[str, Any], out: dict[str, Any], *, computed: bool, optional: bool = False
) -> None:
    """operator, warning, critical (and sabamon's recovery levels). With `optional`, both
    thresholds may be null: the monitor alerts on something else, or only draws."""
    operator = body.get("operator")
    if operator is None and optional and body.get("warning") is body.get("critical") is None:
        operator = ">"  # nothing to compare; Mackerel answers with an operator all the same
    if operator not in (">", "<"):
        raise MonitorError("operator: must be '>' or '<'")
    out["operator"] = operator
    warning, critical = _number(body, "warning"), _number(body, "critical")
    if warning is None and critical is None and not optional:
        raise MonitorError("warning: warning or critical must be set")
    for key, value in (("warning", warning), ("critical", critical)):
        if computed and value is not None and not 0 <= value <= 100:
            raise MonitorError(f"{key}: must be from 0 to 100 for {body.get('metric')}")
        out[key] = value
    for key, limit in (("recoveryWarning", warning), ("recoveryCritical", critical)):
        recovery = _number(body, key)
        if recovery is None:
            continue
        if limit is None:
            raise MonitorError(f"{key}: needs {key.removeprefix('recovery').lower()}")
        if (operator == ">" and recovery > limit) or (operator == "<" and recovery < limit):
            raise MonitorError(f"{key}: must lie on the OK side of its threshold")
        out[key] = recovery


def _flapping(body: dict[str, Any], out: dict[str, Any]) -> None:
    _put(out, "holdDownMinutes", _integer(body, "holdDownMinutes", 1, 1440))
    window = _integer(body, "flapWindowMinutes", 2, 120)
    threshold = _integer(body, "flapThreshold", 2, 100)
    if (window is None) != (threshold is None):
        raise MonitorError("flapThreshold: flapWindowMinutes and flapThreshold go together")
    _put(out, "flapWindowMinutes", window)
    _put(out, "flapThreshold", threshold)


def _host(body: dict[str, Any], out: dict[str, Any]) -> None:
    metric = _string(body, "metric", required=True)
    out["metric"] = metric
    _thresholds(body, out, computed=metric in COMPUTED_METRICS)
    out["duration"] = _integer(body, "duration", 1, 10) or 1
    out["maxCheckAttempts"] = _integer(body, "maxCheckAttempts", 1, 10) or 1


def _connectivity(body: dict[str, Any], out: dict[str, Any]) -> None:
    gone = body.get("alertStatusOnGone") or "CRITICAL"
    if gone not in ("CRITICAL", "WARNING"):
        raise MonitorError("alertStatusOnGone: must be 'CRITICAL' or 'WARNING'")
    out["alertStatusOnGone"] = gone


def _service(body: dict[str, Any], out: dict[str, Any]) -> None:
    out["service"] = _string(body, "service", required=True)
    out["metric"] = _string(body, "metric", required=True)
    missing = {}
    for key in ("missingDurationWarning", "missingDurationCritical"):
        minutes = _integer(body, key, 10, ONE_WEEK_MINUTES)
        if minutes is not None and minutes % 10:
            raise MonitorError(f"{key}: must be a multiple of 10 minutes")
        if minutes is not None:
            missing[key] = minutes
    # mackerel-client-go's fixtures hold a service monitor with only missing-data levels.
    _thresholds(body, out, computed=False, optional=bool(missing))
    out["duration"] = _integer(body, "duration", 1, 10) or 1
    out["maxCheckAttempts"] = _integer(body, "maxCheckAttempts", 1, 10) or 1
    out.update(missing)


def _external(body: dict[str, Any], out: dict[str, Any]) -> None:
    url = _string(body, "url", required=True)
    problem = url_problem(url)
    if problem is not None:
        raise MonitorError(f"url: {problem}")
    out["url"] = url
    method = body.get("method") or "GET"
    if method not in ("GET", "POST", "PUT", "DELETE"):
        raise MonitorError("method: must be GET, POST, PUT or DELETE")
    out["method"] = method
    _put(out, "service", _string(body, "service"))
    for key in ("responseTimeWarning", "responseTimeCritical"):
        value = _number(body, key)
        if value is not None and "service" not in out:
            raise MonitorError(f"{key}: needs service")
        _put(out, key, value)
    duration = _integer(body, "responseTimeDuration", 1, 10)
    if duration is not None and "service" not in out:
        raise MonitorError("responseTimeDuration: needs service")
    _put(out, "responseTimeDuration", duration)
    _put(out, "containsString", _string(body, "containsString"))
    out["maxCheckAttempts"] = _integer(body, "maxCheckAttempts", 1, 10) or 1
    for key in ("certificationExpirationWarning", "certificationExpirationCritical"):
        _put(out, key, _integer(body, key, 0, 3650))
    _put(out, "skipCertificateVerification", _bool(body, "skipCertificateVerification"))
    _put(out, "expectedStatusCode", _integer(body, "expectedStatusCode", 100, 599))
    headers = body.get("headers")
    if headers is not None:
        if not isinstance(headers, list) or not all(isinstance(h, dict) for h in headers):
            raise MonitorError("headers: must be a list of {name, value} strings")
        for index, header in enumerate(headers):
            problem = header_problem(header.get("name"), header.get("value"))
            if problem is not None:
                raise MonitorError(f"headers[{index}].{problem}")
        out["headers"] = [{"name": h["name"], "value": h["value"]} for h in headers]
    _put(out, "requestBody", _string(body, "requestBody"))
    _put(out, "followRedirect", _bool(body, "followRedirect"))
    dualstack = body.get("dualstack")
    if dualstack is not None and dualstack not in ("ipv4", "ipv6", "auto"):
        raise MonitorError("dualstack: must be 'ipv4', 'ipv6' or 'auto'")
    _put(out, "dualstack", dualstack)
    _put(out, "timeoutSeconds", _integer(body, "timeoutSeconds", 1, 60))


def _expression(body: dict[str, Any], out: dict[str, Any]) -> None:
    text = _string(body, "expression", required=True, limit=MAX_EXPRESSION) or ""
    try:
        parse_expression(text)
    except ExpressionError as exc:
        raise MonitorError(f"expression: {exc}") from None
    out["expression"] = text
    # Mackerel keeps expression monitors without thresholds (mackerel-client-go's fixture
    # "expression monitor without thresholds"); they never alert.
    _thresholds(body, out, computed=False, optional=True)
    out["evaluateBackwardMinutes"] = _integer(body, "evaluateBackwardMinutes", 2, 10) or 2


_TYPE_FIELDS = {
    "host": _host,
    "connectivity": _connectivity,
    "service": _service,
    "external": _external,
    "expression": _expression,
}


def validate_monitor(body: Any, previous: Monitor | None = None) -> dict[str, Any]:
    """The stored document for a POST (or, with `previous`, a PUT) body.

    PUT is a full replacement, except that an omitted (or null) `alertStatusOnGone` or
    `headers` keeps its old value (api.md §6); changing `type` is an error. Fields the
    type does not have are ignored (not stored, not echoed), so a file pulled from
    Mackerel with fields sabamon does not know pushes as it is.
    """
    if not isinstance(body, dict):
        raise MonitorError("body: must be a JSON object")
    kind = body.get("type")
    if kind not in _TYPE_FIELDS:
        raise MonitorError(f"type: must be one of {', '.join(MONITOR_TYPES)}")
    if previous is not None:
        if kind != previous.type:
            raise MonitorError("type: cannot be changed")
        body = dict(body)
        for kept in ("alertStatusOnGone", "headers"):
            # null keeps it too: mackerel-client-go sends nil headers as null and says
            # "specify an empty list to remove all headers"
            if body.get(kept) is None and kept in previous.spec:
                body[kept] = previous.spec[kept]
    out: dict[str, Any] = {"type": kind}
    name = _string(body, "name", required=kind != "connectivity", limit=250)
    out["name"] = name or "connectivity"
    out["memo"] = _string(body, "memo", limit=2048) or ""
    interval = body.get("notificationInterval")
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 10:
            raise MonitorError("notificationInterval: must be an integer of at least 10 minutes")
        out["notificationInterval"] = interval
    out["isMute"] = bool(_bool(body, "isMute"))
    scopes = {key: _string_list(body, key) for key in ("scopes", "excludeScopes")}
    _TYPE_FIELDS[kind](body, out)
    if kind in SCOPED_TYPES:
        out.update(scopes)
    _flapping(body, out)
    return out


def monitor_sort_key(monitor: Monitor) -> tuple[str, str, str]:
    """GET /monitors order: by type, then name (then id, for a stable order)."""
    return (monitor.type, monitor.name, monitor.id)


def in_scope(monitor: Monitor, host_roles: dict[str, list[str]]) -> bool:
    """Whether a host with these roles ({service: [role]}) is in the monitor's scopes."""
    names = {svc for svc in host_roles} | {
        f"{svc}:{role}" for svc, roles in host_roles.items() for role in roles
    }
    scopes, excluded = monitor.get("scopes") or [], monitor.get("excludeScopes") or []
    if any(scope_name(scope) in names for scope in excluded):
        return False
    return not scopes or any(scope_name(scope) in names for scope in scopes)
