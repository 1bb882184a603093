"""Alert group settings (Mackerel's `/api/v0/alert-group-settings`): which alerts form a
group, by `serviceScopes`, `roleScopes` ("service:role") and `monitorScopes` (monitor ids),
with an optional re-notification `notificationInterval` in minutes.

Stored and returned in Mackerel's shape, so `mkr`, mackerel-client-go and provisioning
tools round-trip them; scopes are echoed as sent. Alerts are not grouped by them (README,
"Differences from Mackerel").
"""

from __future__ import annotations

from typing import Any

SCOPE_KEYS = ("serviceScopes", "roleScopes", "monitorScopes")
NAME_MAX = 250
MEMO_MAX = 2048


class AlertGroupSettingError(ValueError):
    """An invalid alert group setting; the message names the field."""


def _text(body: dict[str, Any], key: str, limit: int, *, required: bool = False) -> str:
    value = body.get(key)
    if value is None or (required and isinstance(value, str) and not value.strip()):
        if required:
            raise AlertGroupSettingError(f"{key}: is required")
        return ""
    if not isinstance(value, str):
        raise AlertGroupSettingError(f"{key}: must be a string")
    if len(value) > limit:
        raise AlertGroupSettingError(f"{key}: must be at most {limit} characters")
    return value


def validate_alert_group_setting(body: Any) -> dict[str, Any]:
    """The stored document for a POST or PUT body (PUT replaces the whole setting).

    Shape: `{name[, memo, serviceScopes, roleScopes, monitorScopes, notificationInterval]}`;
    as Mackerel answers, a field left out (or null) is left out of the answer too.
    """
    if not isinstance(body, dict):
        raise AlertGroupSettingError("body: must be a JSON object")
    out: dict[str, Any] = {"name": _text(body, "name", NAME_MAX, required=True)}
    if body.get("memo") is not None:
        out["memo"] = _text(body, "memo", MEMO_MAX)
    for key in SCOPE_KEYS:
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise AlertGroupSettingError(f"{key}: must be a list of non-empty strings")
        out[key] = list(value)
    interval = body.get("notificationInterval")
    if interval is not None:
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 0:
            raise AlertGroupSettingError("notificationInterval: must be minutes (an integer)")
        out["notificationInterval"] = interval
    return out
