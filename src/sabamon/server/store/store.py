"""The store: every verb the server keeps data with, written once over a `Backend`.

The API layer talks only to this class and never writes SQL. Each verb builds a step (see
`ops.py`; the steps live in `accounts.py`, `hosts.py`, `services.py`, `graphdefs.py`,
`checks.py`, `metadata.py`, `alerts_ops.py` and `web_ops.py`) and hands it to the backend,
which runs it in one read snapshot (`read`) or one committed write transaction (`write`).
Every write verb returns only after its transaction has committed, so an acknowledged
write survives a crash. Records and errors are in `records.py`.

Time series are reached through `series` (`series_store.SeriesStore`), which `open` opens
after the metadata database and `close` closes first; by default `sql_series` runs on the
same backend.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from . import accounts, alerts_ops, checks, graphdefs, hosts, metadata, services, web_ops
from .backend import Backend
from .records import (
    AlertLogRecord,
    AlertRecord,
    ApiKey,
    CheckReport,
    CheckState,
    Delivery,
    Document,
    DocumentKind,
    GraphDef,
    Host,
    HostFilter,
    HostInput,
    HostStatus,
    Metadata,
    MetadataOwner,
    NewDelivery,
    Org,
    Retention,
    Role,
    Service,
    TargetWrite,
    User,
    WebSession,
)
from .series import DEFAULT_MAX_SERIES
from .series_store import SeriesStore
from .sql_series import SQLSeriesStore

Clock = Callable[[], int]

DEFAULT_RETENTION = Retention()


def wall_clock() -> int:
    return int(time.time())


class Store:
    """Everything the server keeps, in the database `backend` runs steps on."""

    def __init__(
        self,
        backend: Backend,
        retention: Retention = DEFAULT_RETENTION,
        *,
        clock: Clock = wall_clock,
        series_store: SeriesStore | None = None,
        max_series_per_org: int = DEFAULT_MAX_SERIES,
    ) -> None:
        """`series_store`: where time series live; by default the tables of this database,
        where one organisation may have at most `max_series_per_org` series."""
        self.backend = backend
        self.clock = clock
        self.sql_series = SQLSeriesStore(
            backend.read,
            backend.write,
            retention,
            vacuum=backend.vacuum,
            flushers=backend.point_flushers,
            max_series_per_org=max_series_per_org,
        )
        backend.on_rollback = self.sql_series.cache.clear
        self.series: SeriesStore = series_store or self.sql_series

    # lifecycle -------------------------------------------------------------------
    async def open(self) -> None:
        """Connect and apply pending migrations."""
        await self.backend.open(self.clock())
        await self.series.open()

    async def close(self) -> None:
        await self.series.close()
        await self.backend.close()

    async def ping(self) -> bool:
        """True when the database answers (for /healthz)."""
        return await self.backend.ping()

    def queue_depths(self) -> dict[str, int]:
        """Work waiting in this process's queues, by queue name (for /metrics)."""
        return {**self.series.queue_depths(), **self.backend.queue_depths()}

    # organisations and API keys ------------------------------------------------------
    async def ensure_org(self, name: str) -> tuple[Org, bool]:
        """The first organisation, created when missing; returns (org, created)."""
        return await self.backend.write(accounts.ensure_org(name, self.clock()))

    async def create_api_key(
        self, org_id: str, *, name: str, write: bool, key: str | None = None
    ) -> ApiKey:
        return await self.backend.write(
            accounts.create_api_key(org_id, name, write, key, self.clock())
        )

    async def get_api_key(self, key: str) -> ApiKey | None:
        """The key if it exists and is not revoked."""
        return await self.backend.read(accounts.get_api_key(key))

    async def list_api_keys(self, org_id: str) -> list[ApiKey]:
        return await self.backend.read(accounts.list_api_keys(org_id))

    async def revoke_api_key(self, key: str) -> bool:
        return await self.backend.write(accounts.revoke_api_key(key, self.clock()))

    # hosts ---------------------------------------------------------------------------
    async def create_host(self, org_id: str, host: HostInput, now: int) -> str:
        """Creates the host (and any service or role named in role_fullnames)."""
        return await self.backend.write(hosts.create_host(org_id, host, now))

    async def update_host(self, org_id: str, host_id: str, host: HostInput) -> None:
        """PUT semantics: roles are added, unlisted roles kept; empty custom id clears."""
        await self.backend.write(hosts.update_host(org_id, host_id, host))

    async def get_host(self, org_id: str, host_id: str) -> Host:
        """Raises NotFound."""
        return await self.backend.read(hosts.get_host(org_id, host_id))

    async def list_hosts(self, org_id: str, flt: HostFilter) -> list[Host]:
        """Non-retired hosts matching the filter, oldest first."""
        return await self.backend.read(hosts.list_hosts(org_id, flt))

    async def find_host_by_custom_identifier(
        self, org_id: str, custom_identifier: str, case_insensitive: bool = False
    ) -> Host:
        """Oldest non-retired match; raises NotFound."""
        return await self.backend.read(
            hosts.find_by_custom_identifier(org_id, custom_identifier, case_insensitive)
        )

    async def set_host_status(
        self, org_id: str, host_ids: Sequence[str], status: HostStatus
    ) -> None:
        """All or nothing: raises NotFound if any id is unknown."""
        await self.backend.write(hosts.set_host_status(org_id, host_ids, status))

    async def set_host_role_fullnames(
        self, org_id: str, host_id: str, role_fullnames: Sequence[str]
    ) -> None:
        await self.backend.write(hosts.set_role_fullnames(org_id, host_id, role_fullnames))

    async def retire_hosts(self, org_id: str, host_ids: Sequence[str], now: int) -> None:
        """All or nothing: raises NotFound if any id is unknown."""
        await self.backend.write(hosts.retire_hosts(org_id, host_ids, now))

    # upkeep ----------------------------------------------------------------------
    async def expire(self, now: int, stop: asyncio.Event | None = None) -> int:
        """Deletes metadata past its age (check reports); returns rows deleted. Series
        expire through `series.expire`."""
        return await self.backend.write(checks.expire_check_reports(now))

    # services and roles ------------------------------------------------------------
    async def list_services(self, org_id: str) -> list[Service]:
        return await self.backend.read(services.list_services(org_id))

    async def create_service(self, org_id: str, name: str, memo: str) -> Service:
        """Raises Conflict if it exists."""
        return await self.backend.write(services.create_service(org_id, name, memo))

    async def delete_service(self, org_id: str, name: str) -> Service:
        """The series go first: a failure leaves the service, so the delete can be retried."""
        await self.backend.read(services.get_service(org_id, name))
        await self.series.delete_series(org_id, "service", name)
        return await self.backend.write(services.delete_service(org_id, name))

    async def delete_service_metrics(self, org_id: str, service: str, names: Sequence[str]) -> int:
        """Deletes the named metrics of a service; NotFound for an unknown service."""
        await self.backend.read(services.get_service(org_id, service))
        return await self.series.delete_series(org_id, "service", service, names)

    async def list_roles(self, org_id: str, service: str) -> list[Role]:
        """Raises NotFound for an unknown service."""
        return await self.backend.read(services.list_roles(org_id, service))

    async def create_role(self, org_id: str, service: str, name: str, memo: str) -> Role:
        return await self.backend.write(services.create_role(org_id, service, name, memo))

    async def delete_role(self, org_id: str, service: str, name: str) -> Role:
        return await self.backend.write(services.delete_role(org_id, service, name))

    # graph definitions ----------------------------------------------------------------
    async def upsert_graph_defs(
        self, org_id: str, defs: Sequence[GraphDef], max_count: int
    ) -> tuple[int, int] | None:
        """Creates or replaces `defs` unless the organisation would then hold more than
        `max_count` (then nothing is written: (stored, new in `defs`)), counted in the
        write's transaction."""
        return await self.backend.write(graphdefs.upsert_graph_defs(org_id, defs, max_count))

    async def delete_graph_def(self, org_id: str, name: str) -> None:
        """Raises NotFound."""
        await self.backend.write(graphdefs.delete_graph_def(org_id, name))

    async def list_graph_defs(self, org_id: str) -> list[GraphDef]:
        return await self.backend.read(graphdefs.list_graph_defs(org_id))

    # check monitoring --------------------------------------------------------------
    async def write_check_reports(
        self, org_id: str, reports: Sequence[CheckReport], now: int
    ) -> int:
        """Stores reports (ignoring ones ≥ 6 h old or already posted); returns stored."""
        return await self.backend.write(checks.write_check_reports(org_id, reports, now))

    async def check_states(
        self, org_id: str, host_id: str | None = None, reported_since: int | None = None
    ) -> list[CheckState]:
        """Latest reports by host then name; `reported_since` (epoch seconds, the server's
        clock): only those received since."""
        return await self.backend.read(checks.check_states(org_id, host_id, reported_since))

    async def list_check_monitors(
        self, org_id: str, after_id: str | None, limit: int
    ) -> list[tuple[str, str]]:
        """[(monitor_id, name)] ascending by id, starting after `after_id`."""
        return await self.backend.read(checks.list_check_monitors(org_id, after_id, limit))

    # metadata ------------------------------------------------------------------------
    async def get_metadata(self, org_id: str, owner: MetadataOwner, namespace: str) -> Metadata:
        """Raises NotFound."""
        return await self.backend.read(metadata.get_metadata(org_id, owner, namespace))

    async def put_metadata(
        self, org_id: str, owner: MetadataOwner, namespace: str, value: Any, now: int,
        max_namespaces: int | None = None,
    ) -> bool:  # fmt: skip
        """Creates or replaces; False (nothing written) when `namespace` is new and the
        owner holds `max_namespaces` already, counted in the write's transaction."""
        return await self.backend.write(
            metadata.put_metadata(org_id, owner, namespace, value, now, max_namespaces)
        )

    async def delete_metadata(self, org_id: str, owner: MetadataOwner, namespace: str) -> None:
        await self.backend.write(metadata.delete_metadata(org_id, owner, namespace))

    async def list_metadata(self, org_id: str, owner: MetadataOwner) -> list[str]:
        return await self.backend.read(metadata.list_metadata(org_id, owner))

    # dashboard users, sessions and shared graph images ------------------------------
    async def create_user(self, org_id: str, name: str, password_hash: str, now: int) -> User:
        """Raises Conflict if the name is taken."""
        return await self.backend.write(web_ops.create_user(org_id, name, password_hash, now))

    async def get_user(self, name: str) -> User | None:
        return await self.backend.read(web_ops.get_user(name))

    async def list_users(self, org_id: str) -> list[User]:
        return await self.backend.read(web_ops.list_users(org_id))

    async def set_user_password(self, name: str, password_hash: str) -> None:
        """Raises NotFound; ends the user's sessions."""
        await self.backend.write(web_ops.set_user_password(name, password_hash))

    async def set_user_time_zone(self, name: str, time_zone: str | None) -> None:
        """Raises NotFound; None: the browser's zone (the caller validates the name)."""
        await self.backend.write(web_ops.set_user_time_zone(name, time_zone))

    async def create_session(self, session: WebSession) -> None:
        await self.backend.write(web_ops.create_session(session))

    async def session_user(self, token_digest: str, now: int) -> User | None:
        """The user of an unexpired session."""
        return await self.backend.read(web_ops.session_user(token_digest, now))

    async def delete_session(self, token_digest: str, now: int) -> None:
        """Deletes the session and every expired one."""
        await self.backend.write(web_ops.delete_session(token_digest, now))

    async def put_graph_image(
        self, org_id: str, token_digest: str, png: bytes, expires_at: int, now: int
    ) -> None:
        """Keeps a notification's graph image until `expires_at`, under the SHA-256 of its
        token; deletes every expired one."""
        await self.backend.write(
            web_ops.put_graph_image(org_id, token_digest, png, expires_at, now)
        )

    async def graph_image(self, token_digest: str, now: int) -> tuple[bytes, int] | None:
        """(PNG, expires_at epoch seconds) of an unexpired graph image."""
        return await self.backend.read(web_ops.graph_image(token_digest, now))

    # monitors, alerts and notifications -------------------------------
    async def list_documents(self, org_id: str, kind: DocumentKind) -> list[Document]:
        """Monitors, channels, notification groups or downtimes, oldest first."""
        return await self.backend.read(alerts_ops.list_documents(org_id, kind))

    async def get_document(self, org_id: str, kind: DocumentKind, doc_id: str) -> Document:
        """Raises NotFound."""
        return await self.backend.read(alerts_ops.get_document(org_id, kind, doc_id))

    async def put_document(self, org_id: str, kind: DocumentKind, doc: Document, now: int) -> None:
        """Creates or replaces."""
        await self.backend.write(alerts_ops.put_document(org_id, kind, doc, now))

    async def insert_document(
        self, org_id: str, kind: DocumentKind, doc: Document, now: int, max_count: int
    ) -> bool:
        """Creates the document unless the organisation holds `max_count` of its kind (then
        False), counted in the insert's transaction."""
        return await self.backend.write(
            alerts_ops.insert_document(org_id, kind, doc, now, max_count)
        )

    async def document_ids(self, org_id: str, kind: DocumentKind) -> set[str]:
        """The organisation's ids of `kind` (monitors: check monitors' ids too)."""
        return await self.backend.read(alerts_ops.document_ids(org_id, kind))

    async def add_document(
        self, org_id: str, kind: DocumentKind, doc: Document, now: int
    ) -> Document:
        """Creates the document unless one with its id exists, in one transaction; returns
        the stored one (the existing document when it was there first). Not for monitors."""
        return await self.backend.write(alerts_ops.add_document(org_id, kind, doc, now))

    async def delete_document(self, org_id: str, kind: DocumentKind, doc_id: str) -> Document:
        """Returns the deleted document; raises NotFound."""
        return await self.backend.write(alerts_ops.delete_document(org_id, kind, doc_id))

    async def target_states(
        self, org_id: str, target: str | None = None
    ) -> dict[tuple[str, str], dict[str, Any]]:
        """{(monitor id, target): alert state machine} for every (or one) evaluated target."""
        return await self.backend.read(alerts_ops.target_states(org_id, target))

    async def commit_targets(self, org_id: str, writes: Sequence[TargetWrite], now: int) -> int:
        """Commits the writes of targets not yet evaluated at their minute; returns how many."""
        return await self.backend.write(alerts_ops.commit_targets(org_id, writes, now))

    async def open_alerts(self, org_id: str) -> list[AlertRecord]:
        return await self.backend.read(alerts_ops.open_alerts(org_id))

    async def list_alerts(
        self, org_id: str, with_closed: bool, next_id: str | None, limit: int
    ) -> tuple[list[AlertRecord], str | None]:
        """Newest first, and the next page's first id when there is more."""
        return await self.backend.read(alerts_ops.list_alerts(org_id, with_closed, next_id, limit))

    async def get_alert(self, org_id: str, alert_id: str) -> AlertRecord:
        """Raises NotFound."""
        return await self.backend.read(alerts_ops.get_alert(org_id, alert_id))

    async def set_alert_memo(self, org_id: str, alert_id: str, memo: str) -> None:
        await self.backend.write(alerts_ops.set_alert_memo(org_id, alert_id, memo))

    async def close_alerts(
        self, org_id: str, alerts: Sequence[AlertRecord], reason: str, trigger: str, now: int,
        deliveries: Sequence[NewDelivery] = (),
    ) -> list[AlertRecord]:  # fmt: skip
        """Closes the open ones among `alerts` with a log entry each and queues
        `deliveries` in the same transaction; returns them."""
        return await self.backend.write(
            alerts_ops.close_alerts(org_id, alerts, reason, trigger, now, deliveries)
        )

    async def alert_logs(
        self, org_id: str, alert_id: str, next_id: str | None, limit: int
    ) -> tuple[list[AlertLogRecord], str | None]:
        return await self.backend.read(alerts_ops.alert_logs(org_id, alert_id, next_id, limit))

    async def enqueue_deliveries(self, org_id: str, items: Sequence[NewDelivery], now: int) -> None:
        """Queues each (channel, event) once; a repeated event key is ignored."""
        await self.backend.write(alerts_ops.enqueue_deliveries(org_id, items, now))

    async def claim_deliveries(self, now: int, lease: int, limit: int) -> list[Delivery]:
        """Takes due deliveries for one sender: `sending` until `now + lease`."""
        return await self.backend.write(
            alerts_ops.claim_deliveries(now, lease, limit, self.backend.skip_locked_rows)
        )

    async def finish_delivery(
        self, delivery_id: str, state: str, attempts: int, next_attempt_at: int,
        error: str | None, now: int,
    ) -> None:  # fmt: skip
        await self.backend.write(
            alerts_ops.finish_delivery(delivery_id, state, attempts, next_attempt_at, error, now)
        )

    async def list_deliveries(
        self, org_id: str, channel_id: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        """The delivery log, newest first."""
        return await self.backend.read(alerts_ops.list_deliveries(org_id, channel_id, limit))

    async def pending_deliveries(self) -> int:
        """Deliveries of every organisation not yet sent nor given up (waiting for their
        first attempt or a retry, or being sent)."""
        return await self.backend.read(alerts_ops.pending_deliveries())
