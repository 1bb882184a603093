"""`sabamon server`, `sabamon apikey` and `sabamon user`.

`server` bootstraps the store in the parent process (schema, the first organisation and
its write key, printed once and saved in DIR/apikey with mode 0600), then runs uvicorn on
the app factory `app_from_environment`, so `--workers N` bootstraps exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from sabamon.logfmt import logging_config, setup_logging
from sabamon.server.cluster.wiring import (
    add_cluster_arguments,
    coordinator_from_environment,
    export_cluster_arguments,
    time_base_from_environment,
)
from sabamon.server.connections import ConnectionLimits, GuardedHttpToolsProtocol
from sabamon.server.notify.email import (
    add_smtp_arguments,
    export_smtp_arguments,
    smtp_from_environment,
)
from sabamon.server.outbound import OUTBOUND_NETWORKS_ENV, OutboundPolicy
from sabamon.server.public_url import (
    PUBLIC_URL_ENV,
    listen_url,
    parse_public_url,
    public_url_from_environment,
)
from sabamon.server.shedding import MAX_IN_FLIGHT_ENV, MAX_WAIT_ENV, SheddingLimits
from sabamon.server.store import open_series_store, open_store
from sabamon.server.store.base import ApiKey, Retention, Store
from sabamon.server.store.series import DEFAULT_MAX_SERIES, MAX_SERIES_ENV
from sabamon.server.telemetry import MULTIPROCESS_DIR_ENV
from sabamon.server.web.users import BOOTSTRAP_PASSWORD_ENV, ensure_admin, run_user

log = logging.getLogger(__name__)

ORG_NAME = "default"
BOOTSTRAP_KEY_ENV = "SABAMON_BOOTSTRAP_API_KEY"
DB_URL_ENV = "SABAMON_DB_URL"
SERIES_STORE_ENV = "SABAMON_SERIES_STORE"
DATA_DIR_ENV = "SABAMON_DATA_DIR"
APIKEY_FILE = "apikey"
WORKER_METRICS_DIR = "worker-metrics"
"""Under the data folder: the workers' /metrics values (prometheus_client multiprocess
mode), emptied at each start of a server with several workers."""


def make_store(
    db_url: str | None,
    data_dir: Path,
    series_store: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Store:
    """The store of `--db`, its series where `--series-store` says (default: beside it)."""
    return open_store(db_url, data_dir, Retention(), open_series_store(series_store, db_url, clock))


def app_from_environment() -> FastAPI:
    """The uvicorn factory: each worker builds its app from the parent's settings."""
    from sabamon.server.alerts.scheduler import AlertingOptions
    from sabamon.server.app import MAINTENANCE_INTERVAL, create_app

    data_dir = Path(os.environ[DATA_DIR_ENV])
    time_base = time_base_from_environment(os.environ)
    return create_app(
        make_store(
            os.environ.get(DB_URL_ENV) or None,
            data_dir,
            os.environ.get(SERIES_STORE_ENV) or None,
            time_base.clock,
        ),
        clock=time_base.clock,
        maintenance_interval=time_base.seconds(MAINTENANCE_INTERVAL),
        coordinator=coordinator_from_environment(os.environ),
        shedding=SheddingLimits.from_environment(),
        body_timeout=ConnectionLimits.from_environment().body_timeout,
        alerting=AlertingOptions(
            base_url=public_url_from_environment(os.environ, AlertingOptions.base_url),
            smtp=smtp_from_environment(os.environ),
            outbound=OutboundPolicy.from_environment(),
        ),
    )


async def bootstrap(store: Store, wanted: str | None = None) -> ApiKey | None:
    """Creates the schema, the organisation and its first write key (`wanted` if given);
    returns the key when it was created now."""
    await store.open()
    try:
        org, created = await store.ensure_org(ORG_NAME)
        if password := await ensure_admin(store, org.id, os.environ.get(BOOTSTRAP_PASSWORD_ENV)):
            print(f"Dashboard user: admin  password: {password}  (shown once)", flush=True)
        if wanted and await store.get_api_key(wanted) is None:
            return await store.create_api_key(org.id, name="bootstrap", write=True, key=wanted)
        if created:
            return await store.create_api_key(org.id, name="bootstrap", write=True)
        return None
    finally:
        await store.close()


def save_key(data_dir: Path, key: str) -> Path:
    path = data_dir / APIKEY_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    os.chmod(path, 0o600)
    return path


def fresh_directory(path: Path) -> Path:
    """An empty folder at `path`: what a previous run left there is removed."""
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def raise_open_files_limit() -> int:
    """Raises this process's open-files limit to its hard limit (workers inherit it), so
    many idle connections run into the per-address cap and deadlines, not into EMFILE."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"--listen {value!r}: expected HOST:PORT")
    return host.strip("[]") or "127.0.0.1", int(port)


def run_server(argv: list[str]) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(prog="sabamon server", description="run the server")
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
    parser.add_argument("--log-level", default="info")
    parser.add_argument(
        "--max-in-flight", type=int, default=512, help="per worker; above it, 503 + Retry-After"
    )
    parser.add_argument(
        "--max-wait", type=float, default=2.0, help="seconds; shed while a request waits longer"
    )
    parser.add_argument(
        "--public-url",
        help="the dashboard's address as people reach it, for the links in notifications"
        " (default: the --listen address)",
    )
    defaults = ConnectionLimits()
    parser.add_argument(
        "--header-timeout",
        type=float,
        default=defaults.header_timeout,
        help="seconds for a request line and headers to arrive, else 408",
    )
    parser.add_argument(
        "--body-timeout",
        type=float,
        default=defaults.body_timeout,
        help="seconds for a request body to arrive after its headers, else 408",
    )
    parser.add_argument(
        "--max-connections-per-address",
        type=int,
        default=defaults.max_per_address,
        help="open connections per client address, per worker; beyond it 503 and closed",
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
    add_cluster_arguments(parser)
    add_smtp_arguments(parser)
    args = parser.parse_args(argv)
    try:
        given = args.public_url or os.environ.get(PUBLIC_URL_ENV)
        public_url = parse_public_url(given or listen_url(*args.listen))
    except ValueError as exc:
        parser.error(str(exc))
    export_cluster_arguments(parser, args, os.environ)
    export_smtp_arguments(args, os.environ)
    try:
        smtp_from_environment(os.environ)
    except ValueError as exc:
        parser.error(str(exc))
    if args.workers < 1:
        parser.error("--workers: must be at least 1")
    try:
        open_series_store(args.series_store, args.db)
    except ValueError as exc:
        parser.error(f"--series-store: {exc}")
    if args.max_in_flight < 1 or not args.max_wait > 0:
        parser.error("--max-in-flight: must be at least 1; --max-wait: must be above 0")
    try:
        connection_limits = ConnectionLimits(
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            max_per_address=args.max_connections_per_address,
        )
    except ValueError as exc:
        parser.error(f"--header-timeout, --body-timeout, --max-connections-per-address: {exc}")
    try:
        outbound = OutboundPolicy.parse(args.outbound_networks)
    except ValueError as exc:
        parser.error(f"--outbound-networks: {exc}")
    if args.max_series_per_org < 1:
        parser.error("--max-series-per-org: must be at least 1")
    os.environ[MAX_SERIES_ENV] = str(args.max_series_per_org)
    setup_logging(args.log_level.upper())
    data_dir: Path = args.data.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    wanted = os.environ.get(BOOTSTRAP_KEY_ENV) or None
    created = asyncio.run(bootstrap(make_store(args.db, data_dir, args.series_store), wanted))
    if created is not None:
        path = save_key(data_dir, created.key)
        print(f"API key (write): {created.key}  (saved in {path})", flush=True)
    os.environ[DATA_DIR_ENV] = str(data_dir)
    os.environ[DB_URL_ENV] = args.db or ""
    os.environ[SERIES_STORE_ENV] = args.series_store or ""
    os.environ[MAX_IN_FLIGHT_ENV] = str(args.max_in_flight)
    os.environ[MAX_WAIT_ENV] = str(args.max_wait)
    connection_limits.export(os.environ)
    os.environ[OUTBOUND_NETWORKS_ENV] = outbound.text()
    open_files = raise_open_files_limit()
    host, port = args.listen
    os.environ[PUBLIC_URL_ENV] = public_url
    if args.workers > 1:
        os.environ[MULTIPROCESS_DIR_ENV] = str(fresh_directory(data_dir / WORKER_METRICS_DIR))
    log.info(
        "event=listening host=%s port=%d workers=%d series_store=%s open_files=%d",
        host,
        port,
        args.workers,
        args.series_store or "beside the metadata",
        open_files,
    )
    uvicorn.run(
        "sabamon.server.cli:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=args.workers,
        log_level=args.log_level.lower(),
        log_config=logging_config(args.log_level),
        access_log=False,
        http=GuardedHttpToolsProtocol,
        timeout_graceful_shutdown=10,
    )
    return 0


async def manage_keys(args: argparse.Namespace) -> int:
    store = make_store(args.db, args.data.resolve() if args.data else Path.cwd())
    await store.open()
    try:
        org, _ = await store.ensure_org(ORG_NAME)
        if args.action == "create":
            key = await store.create_api_key(org.id, name=args.name, write=not args.read_only)
            print(key.key)
        elif args.action == "list":
            for key in await store.list_api_keys(org.id):
                access = "write" if key.write else "read-only"
                print(f"{key.key}\t{access}\t{key.name}\t{key.created_at}")
        elif not await store.revoke_api_key(args.key):
            print(f"sabamon apikey revoke: no such key {args.key!r}", file=sys.stderr)
            return 1
        return 0
    finally:
        await store.close()


def run_apikey(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sabamon apikey", description="manage API keys")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--data", type=Path, help="data folder of a SQLite server")
    where.add_argument("--db", help="postgresql://… of a PostgreSQL server")
    actions = parser.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", parents=[where], help="print a new key")
    create.add_argument("--read-only", action="store_true")
    create.add_argument("--name", default="")
    actions.add_parser("list", parents=[where], help="list the keys")
    revoke = actions.add_parser("revoke", parents=[where], help="revoke a key")
    revoke.add_argument("key")
    args = parser.parse_args(argv)
    if args.data is None and args.db is None:
        parser.error("give --data DIR or --db URL")
    return asyncio.run(manage_keys(args))


def main(command: str, argv: list[str]) -> int:
    if command == "server":
        return run_server(argv)
    if command == "apikey":
        return run_apikey(argv)
    if command == "user":
        return run_user(argv)
    print(f"sabamon: unknown command {command!r}", file=sys.stderr)
    return 2
