"""Hand-written checks for the hot paths and the name rules the spec sets.

Errors name the JSON index and field, e.g. `[3].value: must be a finite number`.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import orjson

from sabamon.server.api.errors import BadRequest
from sabamon.server.store.base import Point

METRIC_NAME = re.compile(r"[a-zA-Z0-9._-]+")
SERVICE_OR_ROLE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,62}")
ROLE_FULLNAME_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]+")
NAMESPACE = re.compile(r"[-a-zA-Z0-9_]+")
CHECK_NAME = re.compile(r"[a-zA-Z0-9_-]+")
MAX_METRIC_NAME = 255
MAX_BATCH = 100_000


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise BadRequest("body: a JSON body is required")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"body: malformed JSON ({exc})") from exc


def contains_nul(value: Any) -> bool:
    """True if a NUL character sits in any string of a JSON value (keys included);
    PostgreSQL cannot store one, so both backends refuse it alike."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    return False


def refuse_nul(value: Any, where: str) -> Any:
    if contains_nul(value):
        raise BadRequest(f"{where}: must not contain NUL characters")
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@functools.lru_cache(maxsize=65536)
def is_metric_name(value: str) -> bool:
    """Cached: agents post the same few hundred names every minute."""
    return len(value) <= MAX_METRIC_NAME and METRIC_NAME.fullmatch(value) is not None


def check_metric_name(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{where}: must be a string")
    if not is_metric_name(value):
        raise BadRequest(f"{where}: must match [a-zA-Z0-9._-]+ (at most {MAX_METRIC_NAME} chars)")
    return value


def check_time(value: Any, where: str) -> int:
    """Epoch seconds; a float is accepted and truncated, as the live API does."""
    if not is_number(value) or not math.isfinite(value) or not 0 <= value < 2**40:
        raise BadRequest(f"{where}: must be epoch seconds")
    return int(value)


def check_value(value: Any, where: str) -> float:
    if not is_number(value) or not math.isfinite(value):
        raise BadRequest(f"{where}: must be a finite number")
    return float(value)


def check_array(payload: Any, what: str) -> list[Any]:
    if not isinstance(payload, list):
        raise BadRequest(f"body: must be a JSON array of {what}")
    if len(payload) > MAX_BATCH:
        raise BadRequest(f"body: at most {MAX_BATCH} {what} per request")
    return payload


def host_points(payload: Any) -> list[Point]:
    """POST /api/v0/tsdb: [{"hostId", "name", "time", "value"}] → points, or BadRequest.

    The common shape (string id and name, integer time, number value) is checked inline;
    anything else goes through `host_point`, which accepts or names the fault.
    """
    points = []
    for index, item in enumerate(check_array(payload, "points")):
        try:
            host_id, name, at, value = item["hostId"], item["name"], item["time"], item["value"]
        except (TypeError, KeyError):
            points.append(host_point(index, item))
            continue
        if (
            type(host_id) is str
            and host_id
            and "\x00" not in host_id
            and type(name) is str
            and is_metric_name(name)
            and type(at) is int
            and 0 <= at < 2**40
            and (type(value) is float or type(value) is int)
            and math.isfinite(value)
        ):
            points.append(Point(host_id, name, at, float(value)))
        else:
            points.append(host_point(index, item))
    return points


def host_point(index: int, item: Any) -> Point:
    """One posted host point checked field by field, errors naming index and field."""
    if not isinstance(item, dict):
        raise BadRequest(f"[{index}]: must be an object")
    host_id = item.get("hostId")
    if not isinstance(host_id, str) or not host_id or "\x00" in host_id:
        raise BadRequest(f"[{index}].hostId: must be a host id string")
    return Point(
        host_id,
        check_metric_name(item.get("name"), f"[{index}].name"),
        check_time(item.get("time"), f"[{index}].time"),
        check_value(item.get("value"), f"[{index}].value"),
    )


def service_points(payload: Any) -> list[tuple[str, int, float]]:
    """POST /api/v0/services/<svc>/tsdb: [{"name", "time", "value"}]."""
    points = []
    for index, item in enumerate(check_array(payload, "points")):
        if not isinstance(item, dict):
            raise BadRequest(f"[{index}]: must be an object")
        points.append(
            (
                check_metric_name(item.get("name"), f"[{index}].name"),
                check_time(item.get("time"), f"[{index}].time"),
                check_value(item.get("value"), f"[{index}].value"),
            )
        )
    return points


def check_service_or_role_name(value: str, where: str) -> str:
    if not SERVICE_OR_ROLE_NAME.fullmatch(value):
        raise BadRequest(f"{where}: must be 2-63 of [A-Za-z0-9_-], starting with a letter or digit")
    return value


def role_fullname(value: str, where: str) -> str:
    """'svc: role' → 'svc:role', or BadRequest."""
    service, sep, role = value.partition(":")
    service, role = service.strip(), role.strip()
    if (
        not sep
        or not ROLE_FULLNAME_PART.fullmatch(service)
        or not ROLE_FULLNAME_PART.fullmatch(role)
    ):
        raise BadRequest(f"{where}: must be 'service:role' of [A-Za-z0-9_-]")
    return f"{service}:{role}"


def check_namespace(value: str) -> str:
    if not NAMESPACE.fullmatch(value):
        raise BadRequest("namespace: must match [-a-zA-Z0-9_]+")
    if value.startswith("mackerel"):
        raise BadRequest("namespace: the prefix 'mackerel' is reserved")
    return value
