"""Every setting of `sabamon server`, in one frozen `ServerSettings`.

`add_arguments` declares the flags, `from_args` checks them (a bad value exits with a
message naming the flag or variable) and reads the variables some settings may also come
from; `export` hands the settings to the uvicorn workers in one variable,
`SABAMON_SERVER_SETTINGS` (JSON), which `from_environment` reads back in each worker.
Adding a setting is one field here, its flag and its line in `_to_json`/`_from_json`.

This is the only module that reads or writes `SABAMON_*` variables. Those read as input:

| variable | setting |
|---|---|
| SABAMON_PUBLIC_URL | --public-url |
| SABAMON_SMTP_HOST, _PORT, _FROM, _STARTTLS, _USER | --smtp-host, … (a flag wins) |
| SABAMON_SMTP_PASSWORD | the SMTP password (a secret: never a flag, never handed over in
  the settings; each worker reads it itself) |
| SABAMON_BOOTSTRAP_API_KEY, SABAMON_BOOTSTRAP_PASSWORD | the first write key and the
  `admin` password (secrets, used by the parent process only) |
| SABAMON_CLOCK_SCALE, SABAMON_CLOCK_ANCHOR | a faster clock for demos and tests |
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping, MutableMapping
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from sabamon.server.cluster import HEARTBEAT_INTERVAL, MEMBER_TTL, ClusterSettings
from sabamon.server.cluster.wiring import TimeBase
from sabamon.server.connections import RESERVED_FILES, ConnectionLimits
from sabamon.server.notify.email import SmtpSettings
from sabamon.server.outbound import OutboundPolicy
from sabamon.server.public_url import listen_url, parse_public_url
from sabamon.server.shedding import SheddingLimits
from sabamon.server.store.series import DEFAULT_MAX_SERIES
from sabamon.server.telemetry import MULTIPROCESS_DIR_ENV

HANDOVER_ENV = "SABAMON_SERVER_SETTINGS"
PUBLIC_URL_ENV = "SABAMON_PUBLIC_URL"
SMTP_ENV = {
    "host": "SABAMON_SMTP_HOST",
    "port": "SABAMON_SMTP_PORT",
    "sender": "SABAMON_SMTP_FROM",
    "starttls": "SABAMON_SMTP_STARTTLS",
    "username": "SABAMON_SMTP_USER",
}
SMTP_PASSWORD_ENV = "SABAMON_SMTP_PASSWORD"
BOOTSTRAP_KEY_ENV = "SABAMON_BOOTSTRAP_API_KEY"
BOOTSTRAP_PASSWORD_ENV = "SABAMON_BOOTSTRAP_PASSWORD"
CLOCK_SCALE_ENV = "SABAMON_CLOCK_SCALE"
CLOCK_ANCHOR_ENV = "SABAMON_CLOCK_ANCHOR"
Maintenance = Literal["worker", "process"]
MAINTENANCE_CHOICES = ("process", "worker")
WORKER_METRICS_DIR = "worker-metrics"
"""Under the data folder: the workers' /metrics values (prometheus_client multiprocess
mode), emptied at each start of a server with several workers."""


@dataclass(frozen=True)
class ServerSettings:
    """What one `sabamon server` run was told; the same in the parent and every worker."""

    data_dir: Path
    db_url: str | None = None
    """postgresql://…; None: SQLite in `data_dir`."""
    series_store: str | None = None
    """None: beside the metadata; else what `--series-store` names."""
    listen: tuple[str, int] = ("127.0.0.1", 8080)
    workers: int = 1
    log_level: str = "info"
    public_url: str = "http://127.0.0.1:8080"
    """The dashboard's address for the links in notifications, without a trailing slash."""
    public_url_given: bool = False
    """Whether `public_url` was given (else it is the listen address): only then are
    notifications' graph images published at it (notify/images.py)."""
    org_name: str = "default"
    max_series_per_org: int = DEFAULT_MAX_SERIES
    """Series one organisation may have; points of further new series are refused."""
    shedding: SheddingLimits = field(default_factory=SheddingLimits)
    connections: ConnectionLimits = field(default_factory=ConnectionLimits)
    outbound: OutboundPolicy = field(default_factory=OutboundPolicy)
    cluster: ClusterSettings | None = None
    """None: a single server, no Redis."""
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    time_base: TimeBase = field(default_factory=TimeBase)
    maintenance: Maintenance = "worker"
    """Where compaction and expiry run: "process", a process of their own beside the
    workers (`server/maintainer`), or "worker", inside each worker's event loop."""

    @property
    def metrics_dir(self) -> Path:
        return self.data_dir / WORKER_METRICS_DIR

    @property
    def processes(self) -> int:
        """The server's processes that count figures: its workers and the maintainer."""
        return self.workers + (self.maintenance == "process")

    # flags ------------------------------------------------------------------------------
    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--listen", type=parse_listen, default=("127.0.0.1", 8080))
        parser.add_argument("--data", type=Path, required=True, help="data folder")
        parser.add_argument("--db", help="postgresql://… (default: SQLite in DIR/sabamon.db)")
        parser.add_argument(
            "--series-store",
            metavar="WHERE",
            help="where time series live: sqlite or postgresql (the default: beside the "
            "metadata), or VictoriaMetrics: http://vm:8428, or for a cluster "
            "http://vminsert:8480/insert/TENANT/prometheus,"
            "http://vmselect:8481/select/TENANT/prometheus",
        )
        parser.add_argument("--workers", type=int, default=1)
        parser.add_argument(
            "--maintenance",
            choices=MAINTENANCE_CHOICES,
            help="where compaction and expiry run: 'process', their own process beside the "
            "workers, so sealing never takes a worker's CPU (the default with --db and no "
            "--redis), or 'worker', in the workers (the default on SQLite, whose one writer "
            "they share, and with --redis, where one member runs them for the cluster)",
        )
        parser.add_argument("--log-level", default="info")
        shedding = SheddingLimits()
        parser.add_argument(
            "--max-in-flight",
            type=int,
            default=shedding.max_in_flight,
            help="per worker; above it, 503 + Retry-After",
        )
        parser.add_argument(
            "--max-wait",
            type=float,
            default=shedding.max_wait,
            help="seconds; shed while a request waits longer",
        )
        parser.add_argument(
            "--shed-retry-after",
            type=float,
            default=shedding.retry_after,
            help="seconds a shed client is told to wait (Retry-After, whole seconds)",
        )
        parser.add_argument(
            "--public-url",
            help="the dashboard's address as people reach it, for the links in notifications"
            f" (default: ${PUBLIC_URL_ENV}, else the --listen address)",
        )
        limits = ConnectionLimits()
        parser.add_argument(
            "--header-timeout",
            type=float,
            default=limits.header_timeout,
            help="seconds for a request line and headers to arrive, else 408",
        )
        parser.add_argument(
            "--body-timeout",
            type=float,
            default=limits.body_timeout,
            help="seconds for a request body to arrive after its headers, else 408",
        )
        parser.add_argument(
            "--max-connections-per-address",
            type=int,
            default=limits.max_per_address,
            help="open connections per client address, per worker; beyond it 503 and closed",
        )
        parser.add_argument(
            "--idle-timeout",
            type=int,
            default=limits.idle_timeout,
            help="seconds a keep-alive connection may wait for its next request (above the"
            " agents' minute between posts, so they reuse their connection)",
        )
        parser.add_argument(
            "--max-connections",
            type=int,
            default=limits.max_connections,
            help="open connections per worker (at most the open-files limit less"
            f" {RESERVED_FILES}); beyond it the longest idle one is closed, else 503",
        )
        parser.add_argument(
            "--outbound-networks",
            default=OutboundPolicy().text(),
            help="CIDR networks webhooks and external monitors may connect to, comma-separated",
        )
        parser.add_argument(
            "--max-series-per-org",
            type=int,
            default=DEFAULT_MAX_SERIES,
            help="series one organisation may have; points of further new series get 400",
        )
        cluster = parser.add_argument_group("cluster (several servers over one PostgreSQL)")
        cluster.add_argument("--redis", help="redis://HOST:PORT/DB: share monitors and jobs")
        cluster.add_argument(
            "--cluster-heartbeat",
            type=float,
            default=HEARTBEAT_INTERVAL,
            metavar="SECONDS",
            help="membership heartbeat interval",
        )
        cluster.add_argument(
            "--cluster-ttl",
            type=float,
            default=MEMBER_TTL,
            metavar="SECONDS",
            help="a silent member is dropped after this long",
        )
        cluster.add_argument(
            "--cluster-listen",
            default="127.0.0.1:0",
            metavar="HOST:PORT",
            help="mcond wake-up listener, reachable by the other members",
        )
        cluster.add_argument(
            "--cluster-prefix", default="sabamon:cluster:", help="Redis key prefix"
        )
        smtp = parser.add_argument_group(f"email notifications (password: ${SMTP_PASSWORD_ENV})")
        smtp.add_argument(
            "--smtp-host", help=f"default ${SMTP_ENV['host']}, else {SmtpSettings.host}"
        )
        smtp.add_argument("--smtp-port", type=int, help=f"default {SmtpSettings.port}")
        smtp.add_argument("--smtp-from", help=f"sender address, default {SmtpSettings.sender}")
        smtp.add_argument("--smtp-starttls", action="store_true", default=None)
        smtp.add_argument("--smtp-user", help="log in as this user")

    @classmethod
    def from_args(
        cls, parser: argparse.ArgumentParser, args: argparse.Namespace, environ: Mapping[str, str]
    ) -> ServerSettings:
        """The settings of the flags (and the variables above); `parser.error` (exit 2,
        naming the flag or variable) on the first bad one."""
        try:
            return cls._from_args(args, environ)
        except ValueError as exc:
            parser.error(str(exc))

    @classmethod
    def _from_args(cls, args: argparse.Namespace, environ: Mapping[str, str]) -> ServerSettings:
        if args.workers < 1:
            raise ValueError("--workers: must be at least 1")
        given_url = args.public_url or environ.get(PUBLIC_URL_ENV)
        try:
            shedding = SheddingLimits(
                max_in_flight=args.max_in_flight,
                max_wait=args.max_wait,
                retry_after=args.shed_retry_after,
            )
        except ValueError as exc:
            raise ValueError(f"--max-in-flight, --max-wait, --shed-retry-after: {exc}") from None
        try:
            connections = ConnectionLimits(
                header_timeout=args.header_timeout,
                body_timeout=args.body_timeout,
                max_per_address=args.max_connections_per_address,
                idle_timeout=args.idle_timeout,
                max_connections=args.max_connections,
            )
        except ValueError as exc:
            raise ValueError(
                "--header-timeout, --body-timeout, --max-connections-per-address,"
                f" --idle-timeout, --max-connections: {exc}"
            ) from None
        if args.max_series_per_org < 1:
            raise ValueError("--max-series-per-org: must be at least 1")
        cluster = _cluster(args)
        maintenance = _maintenance(args.maintenance, args.db, cluster)
        try:
            outbound = OutboundPolicy.parse(args.outbound_networks)
        except ValueError as exc:
            raise ValueError(f"--outbound-networks: {exc}") from None
        return cls(
            data_dir=args.data.resolve(),
            db_url=args.db or None,
            series_store=args.series_store or None,
            listen=args.listen,
            workers=args.workers,
            log_level=args.log_level,
            public_url=parse_public_url(given_url or listen_url(*args.listen)),
            public_url_given=bool(given_url),
            max_series_per_org=args.max_series_per_org,
            shedding=shedding,
            connections=connections,
            outbound=outbound,
            cluster=cluster,
            smtp=_smtp(args, environ),
            time_base=_time_base(environ),
            maintenance=maintenance,
        )

    # the hand-over to the workers ----------------------------------------------------------
    def export(self, environ: MutableMapping[str, str]) -> None:
        """Puts the settings where each uvicorn worker reads them (`from_environment`), and
        with several workers, prometheus_client's folder for their /metrics values."""
        environ[HANDOVER_ENV] = json.dumps(_to_json(self))
        if self.processes > 1:
            environ[MULTIPROCESS_DIR_ENV] = str(self.metrics_dir)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> ServerSettings:
        """The settings `export` handed over, with the SMTP password from its variable."""
        settings = _from_json(json.loads(environ[HANDOVER_ENV]))
        password = environ.get(SMTP_PASSWORD_ENV) or None
        return replace(settings, smtp=replace(settings.smtp, password=password))


def bootstrap_secrets(environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(the first write key wanted, the `admin` password wanted), each None when not given."""
    return environ.get(BOOTSTRAP_KEY_ENV) or None, environ.get(BOOTSTRAP_PASSWORD_ENV) or None


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"--listen {value!r}: expected HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def _cluster(args: argparse.Namespace) -> ClusterSettings | None:
    if args.redis is None:
        return None
    from sabamon.mcond.option import split_host_port
    from sabamon.server.cluster.node import mcond_option

    settings = ClusterSettings(
        redis_url=args.redis,
        heartbeat_interval=args.cluster_heartbeat,
        member_ttl=args.cluster_ttl,
        mcond_listen=args.cluster_listen,
        prefix=args.cluster_prefix,
    )
    mcond_option(settings)
    split_host_port(settings.mcond_listen, "--cluster-listen")
    return settings


def _maintenance(
    given: str | None, db_url: str | None, cluster: ClusterSettings | None
) -> Maintenance:
    """`--maintenance`, or its default: "process" with PostgreSQL and no cluster."""
    if given is None:
        return "process" if db_url and cluster is None else "worker"
    if given == "process" and not db_url:
        raise ValueError(
            "--maintenance process: needs --db (PostgreSQL); on SQLite compaction shares "
            "the server's one writer and runs in the worker"
        )
    if given == "process" and cluster is not None:
        raise ValueError(
            "--maintenance process: not with --redis; a cluster runs maintenance in one "
            "member at a time"
        )
    return "process" if given == "process" else "worker"


def _smtp(args: argparse.Namespace, environ: Mapping[str, str]) -> SmtpSettings:
    """The flags given, else the SMTP_ENV variables, else the defaults (no password here)."""
    port_text = str(args.smtp_port) if args.smtp_port is not None else environ.get(SMTP_ENV["port"])
    port = SmtpSettings.port
    if port_text is not None:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            name = "--smtp-port" if args.smtp_port is not None else SMTP_ENV["port"]
            raise ValueError(f"{name}={port_text!r}: expected a port number")
        port = int(port_text)
    starttls = args.smtp_starttls
    if starttls is None:
        starttls = environ.get(SMTP_ENV["starttls"], "").lower() in ("1", "true", "yes")
    return SmtpSettings(
        host=args.smtp_host or environ.get(SMTP_ENV["host"]) or SmtpSettings.host,
        port=port,
        sender=args.smtp_from or environ.get(SMTP_ENV["sender"]) or SmtpSettings.sender,
        starttls=starttls,
        username=args.smtp_user or environ.get(SMTP_ENV["username"]) or None,
    )


def _time_base(environ: Mapping[str, str]) -> TimeBase:
    scale = float(environ.get(CLOCK_SCALE_ENV, "1"))
    if not scale > 0:
        raise ValueError(f"{CLOCK_SCALE_ENV}={scale}: must be positive")
    return TimeBase(scale, float(environ.get(CLOCK_ANCHOR_ENV) or time.time()))


def _to_json(settings: ServerSettings) -> dict[str, Any]:
    smtp, cluster = settings.smtp, settings.cluster
    return {
        "data_dir": str(settings.data_dir),
        "db_url": settings.db_url,
        "series_store": settings.series_store,
        "listen": list(settings.listen),
        "workers": settings.workers,
        "log_level": settings.log_level,
        "public_url": settings.public_url,
        "public_url_given": settings.public_url_given,
        "org_name": settings.org_name,
        "max_series_per_org": settings.max_series_per_org,
        "shedding": [
            settings.shedding.max_in_flight,
            settings.shedding.max_wait,
            settings.shedding.retry_after,
        ],
        "connections": list(astuple(settings.connections)),
        "outbound": settings.outbound.text(),
        "cluster": None
        if cluster is None
        else [
            cluster.redis_url,
            cluster.prefix,
            cluster.heartbeat_interval,
            cluster.member_ttl,
            cluster.mcond_listen,
        ],
        "smtp": [smtp.host, smtp.port, smtp.sender, smtp.starttls, smtp.username],
        "time_base": [settings.time_base.scale, settings.time_base.anchor],
        "maintenance": settings.maintenance,
    }


def _from_json(data: dict[str, Any]) -> ServerSettings:
    cluster = data["cluster"]
    host, port, sender, starttls, username = data["smtp"]
    return ServerSettings(
        data_dir=Path(data["data_dir"]),
        db_url=data["db_url"],
        series_store=data["series_store"],
        listen=(data["listen"][0], data["listen"][1]),
        workers=data["workers"],
        log_level=data["log_level"],
        public_url=data["public_url"],
        public_url_given=data["public_url_given"],
        org_name=data["org_name"],
        max_series_per_org=data["max_series_per_org"],
        shedding=SheddingLimits(*data["shedding"]),
        connections=ConnectionLimits(*data["connections"]),
        outbound=OutboundPolicy.parse(data["outbound"]),
        cluster=None
        if cluster is None
        else ClusterSettings(
            redis_url=cluster[0],
            prefix=cluster[1],
            heartbeat_interval=cluster[2],
            member_ttl=cluster[3],
            mcond_listen=cluster[4],
        ),
        smtp=SmtpSettings(host, port, sender, starttls, username),
        time_base=TimeBase(*data["time_base"]),
        maintenance=data["maintenance"],
    )
