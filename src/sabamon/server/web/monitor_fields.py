"""Monitor forms: which fields each type shows, and form values to Mackerel monitor JSON.

The form only converts text to JSON values; `alerts.monitors.validate_monitor` judges
them, so a form shows the API's own 400 messages. A value that does not parse as a
number is passed on as text, for the validator to name the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

FieldKind = Literal["text", "number", "integer", "list", "bool", "choice", "multi", "textarea"]


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: FieldKind = "text"
    choices: tuple[str, ...] = ()
    hint: str = ""


COMMON = (
    Field("name", "Name"),
    Field("memo", "Memo", "textarea"),
    Field("notificationInterval", "Re-notify every (minutes)", "integer", hint="empty: once"),
    Field("isMute", "Muted", "bool"),
)
THRESHOLDS = (
    Field("operator", "Alert when value is", "choice", (">", "<")),
    Field("warning", "Warning", "number"),
    Field("critical", "Critical", "number"),
)
RECOVERY = (
    Field("recoveryWarning", "Recover from warning at", "number", hint="optional hysteresis"),
    Field("recoveryCritical", "Recover from critical at", "number", hint="optional hysteresis"),
)
SCOPES = (
    Field("scopes", "Scopes", "list", hint="service or service:role, comma-separated"),
    Field("excludeScopes", "Exclude scopes", "list", hint="comma-separated"),
)
ATTEMPTS = Field("maxCheckAttempts", "Attempts before alerting", "integer")
DURATION = Field("duration", "Average of the last N minutes", "integer")

TYPE_FIELDS: dict[str, tuple[Field, ...]] = {
    "host": (
        Field("metric", "Metric", hint="e.g. loadavg5, cpu%, memory%, disk%, swap%"),
        *THRESHOLDS,
        DURATION,
        ATTEMPTS,
        *RECOVERY,
        *SCOPES,
    ),
    "connectivity": (
        Field("alertStatusOnGone", "Status when gone", "choice", ("CRITICAL", "WARNING")),
        *SCOPES,
    ),
    "service": (
        Field("service", "Service"),
        Field("metric", "Metric"),
        *THRESHOLDS,
        DURATION,
        ATTEMPTS,
        Field("missingDurationWarning", "Missing data: warning after (minutes)", "integer"),
        Field("missingDurationCritical", "Missing data: critical after (minutes)", "integer"),
    ),
    "external": (
        Field("url", "URL"),
        Field("method", "Method", "choice", ("GET", "POST", "PUT", "DELETE")),
        Field("requestBody", "Request body", "textarea"),
        Field("expectedStatusCode", "Expected status", "integer", hint="empty: any 2xx/3xx"),
        Field("containsString", "Response contains"),
        Field("followRedirect", "Follow redirects", "bool"),
        Field("timeoutSeconds", "Timeout (seconds)", "integer"),
        ATTEMPTS,
        Field("service", "Service", hint="stores the response time as its metric"),
        Field("responseTimeWarning", "Response time warning (ms)", "number"),
        Field("responseTimeCritical", "Response time critical (ms)", "number"),
        Field("responseTimeDuration", "Response time over N minutes", "integer"),
        Field("certificationExpirationWarning", "Certificate expiry warning (days)", "integer"),
        Field("certificationExpirationCritical", "Certificate expiry critical (days)", "integer"),
    ),
    "expression": (
        Field(
            "expression",
            "Expression",
            "textarea",
            hint='e.g. avg(roleSlots("shop:web", "loadavg5"))',
        ),
        *THRESHOLDS,
        Field("evaluateBackwardMinutes", "Evaluate the last N minutes", "integer"),
    ),
}
TYPE_LABELS = {
    "host": "Host metric",
    "connectivity": "Connectivity",
    "service": "Service metric",
    "external": "External HTTP",
    "expression": "Expression",
    "check": "Check",
}


def fields_for(kind: str) -> tuple[Field, ...]:
    return (*COMMON, *TYPE_FIELDS[kind])


def _number(text: str, integer: bool) -> Any:
    """An int, else (for a number field) a float, else the text for the validator to name."""
    for parse in (int,) if integer else (int, float):
        try:
            return parse(text)
        except ValueError:
            continue
    return text


def _value(field: Field, form: Mapping[str, str]) -> Any:
    raw = form.get(field.key, "")
    if field.kind == "bool":
        return raw == "on"
    if not raw.strip():
        return None
    if field.kind in ("number", "integer"):
        return _number(raw.strip(), field.kind == "integer")
    if field.kind == "list":
        return [part.strip() for part in raw.split(",") if part.strip()]
    return raw


def form_to_body(
    kind: str, form: Mapping[str, str], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON body for the API's validator: the form's fields over the previous
    definition's other fields (set in the JSON editor), so an edit keeps them."""
    fields = fields_for(kind)
    covered = {f.key for f in fields}
    body = {k: v for k, v in (previous or {}).items() if k not in covered and k != "id"}
    body["type"] = kind
    for field in fields:
        value = _value(field, form)
        if value is not None:
            body[field.key] = value
    return body


def spec_to_form(spec: Mapping[str, Any]) -> dict[str, str]:
    """A stored monitor's values as the form's text."""
    out: dict[str, str] = {}
    for key, value in spec.items():
        if isinstance(value, bool):
            out[key] = "on" if value else ""
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[key] = ", ".join(value)
        elif value is not None and not isinstance(value, dict | list):
            out[key] = str(value)
    return out


def error_field(message: str) -> str:
    """The field a validator's message names: `warning: must be ...` -> `warning`."""
    return message.split(":", 1)[0].strip()


def target_of(spec: Mapping[str, Any]) -> str:
    """What a monitor watches, for the list."""
    kind = spec.get("type")
    if kind == "host":
        return str(spec.get("metric", ""))
    if kind == "service":
        return f"{spec.get('service')} / {spec.get('metric')}"
    if kind == "external":
        return str(spec.get("url", ""))
    if kind == "expression":
        return str(spec.get("expression", ""))
    if kind == "connectivity":
        scopes = spec.get("scopes") or []
        return ", ".join(scopes) if scopes else "all hosts"
    return ""


def thresholds_of(spec: Mapping[str, Any]) -> str:
    if "operator" not in spec:
        if spec.get("type") == "connectivity":
            return f"gone → {spec.get('alertStatusOnGone', 'CRITICAL')}"
        return ""
    parts = [
        f"{label} {spec['operator']} {spec[key]:g}"
        for key, label in (("warning", "warn"), ("critical", "crit"))
        if spec.get(key) is not None
    ]
    return ", ".join(parts)
