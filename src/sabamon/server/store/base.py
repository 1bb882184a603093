"""The one store interface; `sqlite.py` and `postgres.py` implement it.

The API layer talks only to this interface and never writes SQL. Every method is a
coroutine: the SQLite backend runs its work on threads (one writer that commits many
requests in one transaction, readers on their own connections), the PostgreSQL backend
uses an async connection pool. Every write method returns only after its transaction has
committed, so an acknowledged write survives a crash.

Time is epoch seconds (int). Ids are opaque 11-character strings made by `new_id()`.
All data belongs to an organisation; every query is scoped by `org_id`.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import string
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .alerts_types import (
        AlertLogRecord,
        AlertRecord,
        Delivery,
        Document,
        DocumentKind,
        NewDelivery,
        TargetWrite,
    )
    from .series_store import SeriesStore
    from .web_types import User, WebSession

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


@dataclass(frozen=True)
class Point:
    """One posted value. For service metrics `owner_id` is the service name."""

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


class Store(ABC):
    """Everything the server keeps. Implementations: SQLiteStore, PostgresStore.

    Time series are reached through `series` (`series_store.SeriesStore`), which `open`
    opens after the metadata database and `close` closes first.
    """

    unwritable_since: float | None = None
    """Monotonic time since when writes fail for want of disk (None: they do not)."""

    series: SeriesStore

    # lifecycle -------------------------------------------------------------------
    @abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> bool:
        """True when the database answers (for /healthz)."""

    # organisations and API keys ------------------------------------------------------
    @abstractmethod
    async def ensure_org(self, name: str) -> tuple[Org, bool]:
        """The first organisation, created when missing; returns (org, created)."""

    @abstractmethod
    async def create_api_key(
        self, org_id: str, *, name: str, write: bool, key: str | None = None
    ) -> ApiKey: ...

    @abstractmethod
    async def get_api_key(self, key: str) -> ApiKey | None:
        """The key if it exists and is not revoked."""

    @abstractmethod
    async def list_api_keys(self, org_id: str) -> list[ApiKey]: ...

    @abstractmethod
    async def revoke_api_key(self, key: str) -> bool: ...

    # hosts ---------------------------------------------------------------------------
    @abstractmethod
    async def create_host(self, org_id: str, host: HostInput, now: int) -> str:
        """Creates the host (and any service or role named in role_fullnames)."""

    @abstractmethod
    async def update_host(self, org_id: str, host_id: str, host: HostInput) -> None:
        """PUT semantics: roles are added, unlisted roles kept; empty custom id clears."""

    @abstractmethod
    async def get_host(self, org_id: str, host_id: str) -> Host:
        """Raises NotFound."""

    @abstractmethod
    async def list_hosts(self, org_id: str, flt: HostFilter) -> list[Host]:
        """Non-retired hosts matching the filter, oldest first."""

    @abstractmethod
    async def find_host_by_custom_identifier(
        self, org_id: str, custom_identifier: str, case_insensitive: bool = False
    ) -> Host:
        """Oldest non-retired match; raises NotFound."""

    @abstractmethod
    async def set_host_status(
        self, org_id: str, host_ids: Sequence[str], status: HostStatus
    ) -> None:
        """All or nothing: raises NotFound if any id is unknown."""

    @abstractmethod
    async def set_host_role_fullnames(
        self, org_id: str, host_id: str, role_fullnames: Sequence[str]
    ) -> None: ...

    @abstractmethod
    async def retire_hosts(self, org_id: str, host_ids: Sequence[str], now: int) -> None:
        """All or nothing: raises NotFound if any id is unknown."""

    # upkeep ----------------------------------------------------------------------
    @abstractmethod
    async def expire(self, now: int, stop: asyncio.Event | None = None) -> int:
        """Deletes metadata past its age (check reports); returns rows deleted. Series
        expire through `series.expire`."""

    # services and roles ------------------------------------------------------------
    @abstractmethod
    async def list_services(self, org_id: str) -> list[Service]: ...

    @abstractmethod
    async def create_service(self, org_id: str, name: str, memo: str) -> Service:
        """Raises Conflict if it exists."""

    @abstractmethod
    async def delete_service(self, org_id: str, name: str) -> Service:
        """Cascades to roles, metadata and the service's series; raises NotFound."""

    @abstractmethod
    async def delete_service_metrics(self, org_id: str, service: str, names: Sequence[str]) -> int:
        """Deletes the named metrics of a service; NotFound for an unknown service."""

    @abstractmethod
    async def list_roles(self, org_id: str, service: str) -> list[Role]:
        """Raises NotFound for an unknown service."""

    @abstractmethod
    async def create_role(self, org_id: str, service: str, name: str, memo: str) -> Role: ...

    @abstractmethod
    async def delete_role(self, org_id: str, service: str, name: str) -> Role: ...

    # graph definitions ----------------------------------------------------------------
    @abstractmethod
    async def upsert_graph_defs(self, org_id: str, defs: Sequence[GraphDef]) -> None: ...

    @abstractmethod
    async def delete_graph_def(self, org_id: str, name: str) -> None:
        """Raises NotFound."""

    @abstractmethod
    async def list_graph_defs(self, org_id: str) -> list[GraphDef]: ...

    # check monitoring --------------------------------------------------------------
    @abstractmethod
    async def write_check_reports(
        self, org_id: str, reports: Sequence[CheckReport], now: int
    ) -> int:
        """Stores reports (ignoring ones ≥ 6 h old or already posted); returns stored."""

    @abstractmethod
    async def check_states(
        self, org_id: str, host_id: str | None = None, reported_since: int | None = None
    ) -> list[CheckState]:
        """Latest reports by host then name; `reported_since` (epoch seconds, the server's
        clock): only those received since."""

    @abstractmethod
    async def list_check_monitors(
        self, org_id: str, after_id: str | None, limit: int
    ) -> list[tuple[str, str]]:
        """[(monitor_id, name)] ascending by id, starting after `after_id`."""

    # metadata ------------------------------------------------------------------------
    @abstractmethod
    async def get_metadata(self, org_id: str, owner: MetadataOwner, namespace: str) -> Metadata:
        """Raises NotFound."""

    @abstractmethod
    async def put_metadata(
        self, org_id: str, owner: MetadataOwner, namespace: str, value: Any, now: int
    ) -> None: ...

    @abstractmethod
    async def delete_metadata(self, org_id: str, owner: MetadataOwner, namespace: str) -> None: ...

    @abstractmethod
    async def list_metadata(self, org_id: str, owner: MetadataOwner) -> list[str]: ...

    # dashboard users and sessions (web_store.py) --------------------------------------
    @abstractmethod
    async def create_user(self, org_id: str, name: str, password_hash: str, now: int) -> User:
        """Raises Conflict if the name is taken."""

    @abstractmethod
    async def get_user(self, name: str) -> User | None: ...

    @abstractmethod
    async def list_users(self, org_id: str) -> list[User]: ...

    @abstractmethod
    async def set_user_password(self, name: str, password_hash: str) -> None:
        """Raises NotFound; ends the user's sessions."""

    @abstractmethod
    async def set_user_time_zone(self, name: str, time_zone: str | None) -> None:
        """Raises NotFound; None: the browser's zone (the caller validates the name)."""

    @abstractmethod
    async def create_session(self, session: WebSession) -> None: ...

    @abstractmethod
    async def session_user(self, token_digest: str, now: int) -> User | None:
        """The user of an unexpired session."""

    @abstractmethod
    async def delete_session(self, token_digest: str, now: int) -> None:
        """Deletes the session and every expired one."""

    @abstractmethod
    async def put_graph_image(
        self, org_id: str, token_digest: str, png: bytes, expires_at: int, now: int
    ) -> None:
        """Keeps a notification's graph image until `expires_at`, under the SHA-256 of its
        token; deletes every expired one."""

    @abstractmethod
    async def graph_image(self, token_digest: str, now: int) -> bytes | None:
        """The PNG of an unexpired graph image."""

    # monitors, alerts and notifications (alerts_store.py) -------------------------------
    @abstractmethod
    async def list_documents(self, org_id: str, kind: DocumentKind) -> list[Document]:
        """Monitors, channels, notification groups or downtimes, oldest first."""

    @abstractmethod
    async def get_document(self, org_id: str, kind: DocumentKind, doc_id: str) -> Document:
        """Raises NotFound."""

    @abstractmethod
    async def put_document(self, org_id: str, kind: DocumentKind, doc: Document, now: int) -> None:
        """Creates or replaces."""

    @abstractmethod
    async def add_document(
        self, org_id: str, kind: DocumentKind, doc: Document, now: int
    ) -> Document:
        """Creates the document unless one with its id exists, in one transaction; returns
        the stored one (the existing document when it was there first). Not for monitors."""

    @abstractmethod
    async def delete_document(self, org_id: str, kind: DocumentKind, doc_id: str) -> Document:
        """Returns the deleted document; raises NotFound."""

    @abstractmethod
    async def target_states(
        self, org_id: str, target: str | None = None
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """{(monitor id, target): alert state machine} for every (or one) evaluated target."""

    @abstractmethod
    async def commit_targets(self, org_id: str, writes: Sequence[TargetWrite], now: int) -> int:
        """Commits the writes of targets not yet evaluated at their minute; returns how many."""

    @abstractmethod
    async def open_alerts(self, org_id: str) -> list[AlertRecord]: ...

    @abstractmethod
    async def list_alerts(
        self, org_id: str, with_closed: bool, next_id: str | None, limit: int
    ) -> tuple[list[AlertRecord], str | None]:
        """Newest first, and the next page's first id when there is more."""

    @abstractmethod
    async def get_alert(self, org_id: str, alert_id: str) -> AlertRecord:
        """Raises NotFound."""

    @abstractmethod
    async def set_alert_memo(self, org_id: str, alert_id: str, memo: str) -> None: ...

    @abstractmethod
    async def close_alerts(
        self, org_id: str, alerts: Sequence[AlertRecord], reason: str, trigger: str, now: int,
        deliveries: Sequence[NewDelivery] = (),
    ) -> list[AlertRecord]:  # fmt: skip
        """Closes the open ones among `alerts` with a log entry each and queues
        `deliveries` in the same transaction; returns them."""

    @abstractmethod
    async def alert_logs(
        self, org_id: str, alert_id: str, next_id: str | None, limit: int
    ) -> tuple[list[AlertLogRecord], str | None]: ...

    @abstractmethod
    async def enqueue_deliveries(self, org_id: str, items: Sequence[NewDelivery], now: int) -> None:
        """Queues each (channel, event) once; a repeated event key is ignored."""

    @abstractmethod
    async def claim_deliveries(self, now: int, lease: int, limit: int) -> list[Delivery]:
        """Takes due deliveries for one sender: `sending` until `now + lease`."""

    @abstractmethod
    async def finish_delivery(
        self, delivery_id: str, state: str, attempts: int, next_attempt_at: int,
        error: str | None, now: int,
    ) -> None: ...  # fmt: skip

    @abstractmethod
    async def list_deliveries(
        self, org_id: str, channel_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        """The delivery log, newest first."""
