"""The Store interface on top of two primitives a backend provides: `_read` and `_write`.

The series verbs live in `sql_series.SQLSeriesStore`, which runs on the same primitives.

Each method builds a step (see `ops.py`) and hands it to the backend, which runs it in one
read snapshot or one committed write transaction. The backends differ only in how they run
steps (threads and a group-committing writer for SQLite, an async pool for PostgreSQL).
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from . import (
    accounts,
    checks,
    graphdefs,
    hosts,
    metadata,
    services,
)
from .alerts_store import AlertsMixin
from .base import (
    ApiKey,
    CheckReport,
    CheckState,
    GraphDef,
    Host,
    HostFilter,
    HostInput,
    HostStatus,
    Metadata,
    MetadataOwner,
    Org,
    Retention,
    Role,
    Service,
    Store,
)
from .ops import Step
from .series import DEFAULT_MAX_SERIES
from .series_store import SeriesStore
from .sql_series import SQLSeriesStore
from .web_store import WebAccountsMixin

T = TypeVar("T")
Clock = Callable[[], int]

DEFAULT_RETENTION = Retention()


def wall_clock() -> int:
    return int(time.time())


class SQLStore(AlertsMixin, WebAccountsMixin, Store):
    """The metadata store on SQL; `series` is `sql_series` unless another is given."""

    point_flushers = 1
    """Coalesced point writes in flight at once (see `coalesce.py`)."""

    def __init__(
        self,
        retention: Retention,
        clock: Clock,
        series_store: SeriesStore | None = None,
        max_series_per_org: int = DEFAULT_MAX_SERIES,
    ) -> None:
        """`series_store`: where time series live; by default the tables of this database,
        where one organisation may have at most `max_series_per_org` series."""
        self.retention = retention
        self.clock = clock
        self.sql_series = SQLSeriesStore(
            self._read,
            self._write,
            retention,
            flushers=self.point_flushers,
            max_series_per_org=max_series_per_org,
        )
        self.series = series_store or self.sql_series

    def forget_series_ids(self) -> None:
        """Called after a rollback: ids cached by the rolled-back transaction may name no row."""
        self.sql_series.cache.clear()

    @abstractmethod
    async def _read(self, step: Step[T]) -> T:
        """Runs `step` in one read-only snapshot."""

    @abstractmethod
    async def _write(self, step: Step[T]) -> T:
        """Runs `step` in a transaction and returns once it has committed.

        If the step raises, none of its writes are kept and the error propagates.
        """

    # organisations and API keys ------------------------------------------------------
    async def ensure_org(self, name: str) -> tuple[Org, bool]:
        return await self._write(accounts.ensure_org(name, self.clock()))

    async def create_api_key(
        self, org_id: str, *, name: str, write: bool, key: str | None = None
    ) -> ApiKey:
        return await self._write(accounts.create_api_key(org_id, name, write, key, self.clock()))

    async def get_api_key(self, key: str) -> ApiKey | None:
        return await self._read(accounts.get_api_key(key))

    async def list_api_keys(self, org_id: str) -> list[ApiKey]:
        return await self._read(accounts.list_api_keys(org_id))

    async def revoke_api_key(self, key: str) -> bool:
        return await self._write(accounts.revoke_api_key(key, self.clock()))

    # hosts ---------------------------------------------------------------------------
    async def create_host(self, org_id: str, host: HostInput, now: int) -> str:
        return await self._write(hosts.create_host(org_id, host, now))

    async def update_host(self, org_id: str, host_id: str, host: HostInput) -> None:
        await self._write(hosts.update_host(org_id, host_id, host))

    async def get_host(self, org_id: str, host_id: str) -> Host:
        return await self._read(hosts.get_host(org_id, host_id))

    async def list_hosts(self, org_id: str, flt: HostFilter) -> list[Host]:
        return await self._read(hosts.list_hosts(org_id, flt))

    async def find_host_by_custom_identifier(
        self, org_id: str, custom_identifier: str, case_insensitive: bool = False
    ) -> Host:
        return await self._read(
            hosts.find_by_custom_identifier(org_id, custom_identifier, case_insensitive)
        )

    async def set_host_status(
        self, org_id: str, host_ids: Sequence[str], status: HostStatus
    ) -> None:
        await self._write(hosts.set_host_status(org_id, host_ids, status))

    async def set_host_role_fullnames(
        self, org_id: str, host_id: str, role_fullnames: Sequence[str]
    ) -> None:
        await self._write(hosts.set_role_fullnames(org_id, host_id, role_fullnames))

    async def retire_hosts(self, org_id: str, host_ids: Sequence[str], now: int) -> None:
        await self._write(hosts.retire_hosts(org_id, host_ids, now))

    # upkeep ------------------------------------------------------------------------
    async def expire(self, now: int, stop: asyncio.Event | None = None) -> int:
        return await self._write(checks.expire_check_reports(now))

    # services and roles --------------------------------------------------------------
    async def list_services(self, org_id: str) -> list[Service]:
        return await self._read(services.list_services(org_id))

    async def create_service(self, org_id: str, name: str, memo: str) -> Service:
        return await self._write(services.create_service(org_id, name, memo))

    async def delete_service(self, org_id: str, name: str) -> Service:
        """The series go first: a failure leaves the service, so the delete can be retried."""
        await self._read(services.get_service(org_id, name))
        await self.series.delete_series(org_id, "service", name)
        return await self._write(services.delete_service(org_id, name))

    async def delete_service_metrics(self, org_id: str, service: str, names: Sequence[str]) -> int:
        await self._read(services.get_service(org_id, service))
        return await self.series.delete_series(org_id, "service", service, names)

    async def list_roles(self, org_id: str, service: str) -> list[Role]:
        return await self._read(services.list_roles(org_id, service))

    async def create_role(self, org_id: str, service: str, name: str, memo: str) -> Role:
        return await self._write(services.create_role(org_id, service, name, memo))

    async def delete_role(self, org_id: str, service: str, name: str) -> Role:
        return await self._write(services.delete_role(org_id, service, name))

    # graph definitions ---------------------------------------------------------------
    async def upsert_graph_defs(self, org_id: str, defs: Sequence[GraphDef]) -> None:
        await self._write(graphdefs.upsert_graph_defs(org_id, defs))

    async def delete_graph_def(self, org_id: str, name: str) -> None:
        await self._write(graphdefs.delete_graph_def(org_id, name))

    async def list_graph_defs(self, org_id: str) -> list[GraphDef]:
        return await self._read(graphdefs.list_graph_defs(org_id))

    # check monitoring ----------------------------------------------------------------
    async def write_check_reports(
        self, org_id: str, reports: Sequence[CheckReport], now: int
    ) -> int:
        return await self._write(checks.write_check_reports(org_id, reports, now))

    async def check_states(
        self, org_id: str, host_id: str | None = None, reported_since: int | None = None
    ) -> list[CheckState]:
        return await self._read(checks.check_states(org_id, host_id, reported_since))

    async def list_check_monitors(
        self, org_id: str, after_id: str | None, limit: int
    ) -> list[tuple[str, str]]:
        return await self._read(checks.list_check_monitors(org_id, after_id, limit))

    # metadata ------------------------------------------------------------------------
    async def get_metadata(self, org_id: str, owner: MetadataOwner, namespace: str) -> Metadata:
        return await self._read(metadata.get_metadata(org_id, owner, namespace))

    async def put_metadata(
        self, org_id: str, owner: MetadataOwner, namespace: str, value: Any, now: int
    ) -> None:
        await self._write(metadata.put_metadata(org_id, owner, namespace, value, now))

    async def delete_metadata(self, org_id: str, owner: MetadataOwner, namespace: str) -> None:
        await self._write(metadata.delete_metadata(org_id, owner, namespace))

    async def list_metadata(self, org_id: str, owner: MetadataOwner) -> list[str]:
        return await self._read(metadata.list_metadata(org_id, owner))
