"""The store's records and errors: what the verbs of `store.Store` take and return.

Time is epoch seconds (int). Ids are opaque 11-character strings made by `new_id()`.
All data belongs to an organisation; every query is scoped by `org_id`.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass, field
from typing import Any, Literal

HostStatus = Literal["working", "standby", "maintenance", "poweroff"]
CheckStatus = Literal["OK", "WARNING", "CRITICAL", "UNKNOWN"]
OwnerKind = Literal["host", "service"]

_ID_ALPHABET = string.ascii_letters + string.digits


def new_id() -> str:
    """An opaque id in Mackerel's shape: 11 alphanumerics."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(11))


def stable_id(seed: str) -> str:
    """An id in `new_id`'s shape that is the same for the same `seed`: what two concurrent
    creators of one thing (an organisation's default group) both write, so only one is made."""
    digest = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big")
    chars = []
    for _ in range(11):
        digest, index = divmod(digest, len(_ID_ALPHABET))
        chars.append(_ID_ALPHABET[index])
    return "".join(chars)


def new_api_key() -> str:
    """44 alphanumerics (about 262 bits): no character a shell or a command line treats
    specially, so `sabamon apikey revoke KEY` never reads a key as an option."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(44))


class StoreError(Exception):
    """A write that the data does not allow; the API turns it into a 4xx."""


class StoreUnwritable(Exception):
    """The database takes no writes now (its disk is full, or writing fails); nothing of
    the request was kept. The API answers 503 with Retry-After; it passes by itself."""

    retry_after = 30


class NotFound(StoreError):
    """The addressed resource does not exist (404)."""


class Conflict(StoreError):
    """The write contradicts existing data (400 unless the route says otherwise)."""


@dataclass(frozen=True)
class ApiKey:
    key: str
    org_id: str
    name: str
    write: bool
    created_at: int


@dataclass(frozen=True)
class Retention:
    """How long each resolution is kept, in seconds (defaults: raw 460 d as Mackerel keeps
    its history, rollups 5 y). Sealed data keeps 5-minute sums, from which hourly and daily
    averages are read, for the longest of the three rollup retentions."""

    raw_1m: int = 460 * 86400
    rollup_5m: int = 5 * 365 * 86400
    rollup_1h: int = 5 * 365 * 86400
    rollup_1d: int = 5 * 365 * 86400


@dataclass(frozen=True)
class Org:
    id: str
    name: str


@dataclass
class HostInput:
    """The body of POST/PUT /api/v0/hosts, already validated."""

    name: str
    display_name: str | None = None
    custom_identifier: str | None = None
    memo: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    interfaces: list[dict[str, Any]] = field(default_factory=list)
    role_fullnames: list[str] = field(default_factory=list)  # "service:role", trimmed
    checks: list[dict[str, Any]] = field(default_factory=list)  # [{"name", "memo"?}]


@dataclass
class Host:
    id: str
    org_id: str
    name: str
    display_name: str | None
    custom_identifier: str | None
    size: str
    status: HostStatus
    memo: str
    meta: dict[str, Any]
    interfaces: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    roles: dict[str, list[str]]  # service name -> sorted role names
    is_retired: bool
    retired_at: int | None
    created_at: int


@dataclass(frozen=True)
class HostFilter:
    """GET /api/v0/hosts filters. `roles` applies only with `service`."""

    service: str | None = None
    roles: tuple[str, ...] = ()
    name: str | None = None
    statuses: tuple[HostStatus, ...] = ("working", "standby")
    custom_identifier: str | None = None


@dataclass(slots=True)
class Point:
    """One posted value. For service metrics `owner_id` is the service name.

    Built once per posted point, so slotted and not frozen: a frozen dataclass's
    `__init__` sets each field through `object.__setattr__` (560 ns a point against 160 ns).
    Nothing changes a point once built; `dataclasses.replace` makes a new one."""

    owner_id: str
    name: str
    time: int
    value: float


@dataclass(frozen=True)
class WriteResult:
    accepted: int
    dropped_out_of_window: int
    over_series_limit: tuple[int, ...] = ()
    """Positions in the batch of the points refused because their series would take the
    organisation past `series_limit`."""
    series_limit: int = field(default=0, compare=False)
    """The limit in force, to name in the answer."""


@dataclass
class Service:
    name: str
    memo: str
    roles: list[str]  # sorted


@dataclass
class Role:
    service: str
    name: str
    memo: str


@dataclass
class GraphDef:
    name: str
    display_name: str | None
    unit: str
    metrics: list[dict[str, Any]]  # [{"name", "displayName"?, "isStacked"}]


@dataclass
class CheckReport:
    host_id: str
    name: str
    status: CheckStatus
    message: str
    occurred_at: int
    notification_interval: int | None = None
    max_check_attempts: int = 1


@dataclass
class CheckState:
    """The latest report per (host, check name) plus the check monitor it belongs to."""

    monitor_id: str
    host_id: str
    name: str
    status: CheckStatus
    message: str
    memo: str
    occurred_at: int
    notification_interval: int | None
    max_check_attempts: int


@dataclass
class Metadata:
    value: Any
    updated_at: int


MetadataOwner = tuple[Literal["host", "service", "role"], str]
"""("host", host_id) | ("service", name) | ("role", "service:role")."""


# alerting: definitions, alert states, alerts, logs and notification deliveries
DocumentKind = Literal[
    "monitor", "channel", "notification_group", "downtime", "alert_group_setting"
]
"""Definitions kept as validated JSON documents, one table each."""

DeliveryState = Literal["pending", "sending", "sent", "failed"]


@dataclass
class Document:
    id: str
    spec: dict[str, Any]


@dataclass
class AlertRecord:
    id: str
    monitor_id: str
    target: str  # host id for host-side monitors, "" otherwise
    type: str  # the monitor type
    host_id: str | None
    status: str
    opened_at: int
    value: float | None = None
    message: str | None = None
    reason: str | None = None
    memo: str = ""
    flap_count: int = 0
    closed_at: int | None = None


@dataclass
class AlertLogRecord:
    id: str
    alert_id: str
    created_at: int
    status: str
    trigger: str  # monitoring, manual, monitorDelete, hostRetire, ...
    monitor_id: str | None
    target_value: float | None = None
    status_detail: dict[str, Any] | None = None


@dataclass
class NewDelivery:
    channel_id: str
    event_key: str  # unique per channel: an event is delivered once
    payload: dict[str, Any]


@dataclass
class Delivery:
    id: str
    org_id: str
    channel_id: str
    event_key: str
    payload: dict[str, Any]
    state: DeliveryState
    attempts: int
    next_attempt_at: int
    last_error: str | None
    created_at: int
    sent_at: int | None


@dataclass
class TargetWrite:
    """What one evaluation of one (monitor, target) changed, committed together.

    Skipped as a whole when the store already holds an evaluation of `minute` or later
    for the target, so evaluating a minute twice writes nothing twice.
    """

    monitor_id: str
    target: str
    minute: int
    state: dict[str, Any]
    alerts: list[AlertRecord] = field(default_factory=list)  # inserted or updated
    logs: list[AlertLogRecord] = field(default_factory=list)
    deliveries: list[NewDelivery] = field(default_factory=list)


# the dashboard's own data: users and their sign-in sessions
@dataclass(frozen=True)
class User:
    name: str
    org_id: str
    password_hash: str
    created_at: int
    time_zone: str | None = None
    """The zoneinfo name the user chose for every time on the dashboard; None: the
    browser's own zone."""


@dataclass(frozen=True)
class WebSession:
    """A signed-in browser; the store keys it by the SHA-256 of the cookie's token."""

    token_digest: str
    user_name: str
    created_at: int
    expires_at: int
