"""Request and response bodies (camelCase on the wire), for validation and /openapi.json."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from sabamon.server.api.validation import sanitize, storable_document
from sabamon.server.store.records import CheckStatus, Host, HostStatus

T = TypeVar("T")


def _null_as_empty(value: Any) -> Any:
    return [] if value is None else value


def _null_as_empty_object(value: Any) -> Any:
    return {} if value is None else value


def _null_as_empty_string(value: Any) -> Any:
    return "" if value is None else value


# mackerel-client-go encodes an unset slice, map or string pointer without `omitempty` as
# `null` (CreateHostParam.interfaces/roleFullnames/checks): `null` reads as empty.
NullableList = Annotated[list[T], BeforeValidator(_null_as_empty)]
NullableObject = Annotated[dict[str, Any], BeforeValidator(_null_as_empty_object)]
NullableText = Annotated[str, BeforeValidator(_null_as_empty_string)]


MAX_CHECK_MESSAGE = 1024
MAX_CHECKS_PER_HOST = 1000
"""Check monitors one host declares in `checks` (each is a monitor evaluated on every
report); Mackerel documents no bound."""


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    @field_validator("*", mode="after")
    @classmethod
    def storable(cls, value: Any) -> Any:
        """Texts from the field are kept: characters no backend can store become U+FFFD."""
        return sanitize(value)


class Success(Wire):
    success: bool = True


class IdOut(Wire):
    id: str


class NamesOut(Wire):
    names: list[str]


class CheckIn(Wire):
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]+$", max_length=255)
    memo: NullableText = ""


class HostIn(Wire):
    """POST/PUT /hosts. `null` in `meta`, `interfaces`, `roleFullnames`, `checks` or `memo`
    reads as empty, as in an omitted field (on PUT, roles are added, so null adds none)."""

    name: str = Field(min_length=1, max_length=255)
    display_name: str | None = Field(None, max_length=255)
    custom_identifier: str | None = Field(None, max_length=255)
    memo: NullableText = Field("", max_length=10_000)
    meta: NullableObject = Field(default_factory=dict)
    interfaces: NullableList[dict[str, Any]] = Field(default_factory=list)
    role_fullnames: NullableList[str] = Field(default_factory=list)
    checks: NullableList[CheckIn] = Field(default_factory=list, max_length=MAX_CHECKS_PER_HOST)

    @field_validator("meta", "interfaces", mode="before")
    @classmethod
    def bounded(cls, value: Any) -> Any:
        """A stored document's limits (`validation.storable_document`). The place of a
        fault inside the document goes in the error's `path`, which the 400 appends to the
        field's name (`errors.describe_validation_errors`)."""
        value, problem = storable_document(value)
        if problem is not None:
            raise PydanticCustomError("document", problem.reason, {"path": problem.path})
        return value


class HostOut(Wire):
    id: str
    name: str
    display_name: str | None = None
    custom_identifier: str | None = None
    size: str
    status: str
    memo: str
    roles: dict[str, list[str]]
    is_retired: bool
    retired_at: int | None = None
    created_at: int
    meta: dict[str, Any]
    interfaces: list[dict[str, Any]]

    @classmethod
    def of(cls, host: Host) -> HostOut:
        return cls(
            id=host.id,
            name=host.name,
            display_name=host.display_name,
            custom_identifier=host.custom_identifier,
            size=host.size,
            status=host.status,
            memo=host.memo,
            roles=host.roles,
            is_retired=host.is_retired,
            retired_at=host.retired_at,
            created_at=host.created_at,
            meta=host.meta,
            interfaces=host.interfaces,
        )


class HostEnvelope(Wire):
    host: HostOut


class HostsOut(Wire):
    hosts: list[HostOut]


class StatusIn(Wire):
    status: HostStatus


class BulkStatusIn(Wire):
    ids: list[str] = Field(min_length=1, max_length=30)
    status: HostStatus


class BulkRetireIn(Wire):
    ids: list[str] = Field(min_length=1, max_length=30)


class RoleFullnamesIn(Wire):
    role_fullnames: NullableList[str]


class TimeValue(Wire):
    time: int
    value: float


class MetricsOut(Wire):
    metrics: list[TimeValue]


class TsdbLatestOut(Wire):
    tsdb_latest: dict[str, dict[str, TimeValue]]


class NameMemoIn(Wire):
    name: str
    memo: NullableText = Field("", max_length=10_000)


class ServiceOut(Wire):
    name: str
    memo: str
    roles: list[str]


class ServicesOut(Wire):
    services: list[ServiceOut]


class RoleOut(Wire):
    name: str
    memo: str


class RolesOut(Wire):
    roles: list[RoleOut]


GraphUnit = Literal[
    "float",
    "integer",
    "percentage",
    "seconds",
    "milliseconds",
    "bytes",
    "bytes/sec",
    "bits/sec",
    "iops",
]


MAX_GRAPH_METRICS = 100
"""Metrics listed in one graph definition (a wildcard covers any number of series; the
dashboard matches every listed metric against a host's names on each view)."""


class GraphMetricIn(Wire):
    name: str = Field(max_length=255)
    display_name: str | None = Field(None, max_length=255)
    is_stacked: Annotated[bool, BeforeValidator(lambda v: v or False)] = False


class GraphDefIn(Wire):
    name: str = Field(max_length=255)
    display_name: str | None = Field(None, max_length=255)
    unit: Annotated[GraphUnit, BeforeValidator(lambda v: v or "float")] = "float"
    metrics: list[GraphMetricIn] = Field(min_length=1, max_length=MAX_GRAPH_METRICS)


class GraphDefDeleteIn(Wire):
    name: str


class CheckSource(Wire):
    type: Literal["host"]
    host_id: str = Field(min_length=1)


class CheckReportIn(Wire):
    source: CheckSource
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]+$", max_length=255)
    status: CheckStatus
    message: NullableText = ""
    occurred_at: int = Field(ge=0, lt=2**40)
    notification_interval: int | None = Field(None, ge=0, le=2**31 - 1)
    # mackerel-client-go omits 0 (`omitempty`); other clients send it for "the default": 1.
    max_check_attempts: int = Field(1, ge=0, le=10)

    @field_validator("message", mode="after")
    @classmethod
    def cut(cls, value: str) -> str:
        """Longer messages are cut to MAX_CHECK_MESSAGE characters (not bytes) and kept, as
        mackerel-agent and `mkr wrap` cut theirs."""
        return value[:MAX_CHECK_MESSAGE]


class CheckReportsIn(Wire):
    """Each report is a CheckReportIn, checked on its own so a bad one costs only itself."""

    reports: list[dict[str, Any]] = Field(min_length=1, max_length=100)


class CheckMonitorOut(Wire):
    id: str
    name: str


class CheckMonitorsOut(Wire):
    checks: list[CheckMonitorOut]
    next_id: str | None = None


class CheckMonitorEnvelope(Wire):
    check: CheckMonitorOut


class NamespaceOut(Wire):
    namespace: str


class MetadataListOut(Wire):
    metadata: list[NamespaceOut]
