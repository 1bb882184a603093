"""`sabamon server`, `sabamon apikey` and `sabamon user`.

`server` reads its flags into one `ServerSettings` (`server/settings.py`), bootstraps the
store in the parent process (schema, the first organisation and its write key, printed once
and saved in DIR/apikey with mode 0600), hands the settings over and runs uvicorn on the app
factory `app_from_settings`, so `--workers N` bootstraps exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import logging
import os
import shutil
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from fastapi import FastAPI

from sabamon.logfmt import logging_config, setup_logging
from sabamon.server import gc_settings
from sabamon.server.cluster.wiring import coordinator_for
from sabamon.server.connections import GuardedHttpToolsProtocol
from sabamon.server.maintainer.supervisor import beside
from sabamon.server.settings import ServerSettings, bootstrap_secrets
from sabamon.server.store import Store, open_series_store, open_store
from sabamon.server.store.records import ApiKey, Conflict, NotFound, Org, Retention
from sabamon.server.store.series import DEFAULT_MAX_SERIES
from sabamon.server.web import auth
from sabamon.server.web.users import ensure_admin

log = logging.getLogger(__name__)

ORG_NAME = "default"
APIKEY_FILE = "apikey"
WORKER_HEALTHCHECK_TIMEOUT = 30
"""Seconds uvicorn waits for a worker of `--workers N` to answer its liveness ping before
killing it as hung (uvicorn's default is 5). A starting worker answers only once it has
imported the app, seconds of CPU: on a busy host 5 s killed every worker before it could
answer, and the server restarted them without end and never served."""


def make_store(
    db_url: str | None,
    data_dir: Path,
    series_store: str | None = None,
    clock: Callable[[], float] = time.time,
    max_series_per_org: int = DEFAULT_MAX_SERIES,
) -> Store:
    """The store of `--db`, its series where `--series-store` says (default: beside it)."""
    series = open_series_store(series_store, db_url, clock)
    return open_store(db_url, data_dir, Retention(), series, max_series_per_org)


def settings_store(settings: ServerSettings, clock: Callable[[], float] = time.time) -> Store:
    """The store `sabamon server` was told to use."""
    return make_store(
        settings.db_url,
        settings.data_dir,
        settings.series_store,
        clock,
        settings.max_series_per_org,
    )


def app_from_settings() -> FastAPI:
    """The uvicorn factory: each worker builds its app from the settings handed over."""
    import resource

    from sabamon.server.alerts.scheduler import AlertingOptions
    from sabamon.server.app import MAINTENANCE_INTERVAL, create_app
    from sabamon.server.telemetry import follow_multiprocess_setting

    follow_multiprocess_setting()
    settings = ServerSettings.from_environment(os.environ)
    open_files, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    GuardedHttpToolsProtocol.limits = (
        settings.connections
        if open_files == resource.RLIM_INFINITY
        else settings.connections.within_open_files(open_files)
    )
    clock = settings.time_base.clock
    app = create_app(
        settings_store(settings, clock),
        clock=clock,
        maintenance_interval=settings.time_base.seconds(MAINTENANCE_INTERVAL),
        maintenance=settings.maintenance == "worker",
        coordinator=coordinator_for(settings.cluster),
        shedding=settings.shedding,
        body_timeout=settings.connections.body_timeout,
        alerting=AlertingOptions(
            org_name=settings.org_name,
            base_url=settings.public_url,
            graph_images=settings.public_url_given,
            smtp=settings.smtp,
            outbound=settings.outbound,
        ),
    )
    gc_settings.settle()
    return app


async def bootstrap(
    store: Store, wanted: str | None = None, admin_password: str | None = None
) -> ApiKey | None:
    """Creates the schema, the organisation, its first write key (`wanted` if given) and
    the `admin` user (`admin_password` if given); returns the key when it was created now."""
    await store.open()
    try:
        org, created = await store.ensure_org(ORG_NAME)
        if password := await ensure_admin(store, org.id, admin_password):
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
    idle connections run into `--max-connections` and the deadlines, not into EMFILE."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def run_server(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sabamon server", description="run the server")
    ServerSettings.add_arguments(parser)
    settings = ServerSettings.from_args(parser, parser.parse_args(argv), os.environ)
    try:
        open_series_store(settings.series_store, settings.db_url)
    except ValueError as exc:
        parser.error(f"--series-store: {exc}")
    setup_logging(settings.log_level.upper())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    wanted, admin_password = bootstrap_secrets(os.environ)
    store = settings_store(settings)
    created = asyncio.run(bootstrap(store, wanted, admin_password))
    if created is not None:
        path = save_key(settings.data_dir, created.key)
        print(f"API key (write): {created.key}  (saved in {path})", flush=True)
    if settings.processes > 1:
        fresh_directory(settings.metrics_dir)
    settings.export(os.environ)
    open_files = raise_open_files_limit()
    host, port = settings.listen
    log.info(
        "event=listening host=%s port=%d workers=%d series_store=%s maintenance=%s open_files=%d",
        host,
        port,
        settings.workers,
        settings.series_store or "beside the metadata",
        settings.maintenance,
        open_files,
    )
    with contextlib.ExitStack() as maintainer:
        if settings.maintenance == "process":
            maintainer.enter_context(beside(os.environ))
        serve(settings)
    return 0


def serve(settings: ServerSettings) -> None:
    """uvicorn with the settings' workers and limits, until it is stopped."""
    import uvicorn

    host, port = settings.listen
    uvicorn.run(
        "sabamon.server.cli:app_from_settings",
        factory=True,
        host=host,
        port=port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        log_config=logging_config(settings.log_level),
        access_log=False,
        http=GuardedHttpToolsProtocol,
        timeout_keep_alive=settings.connections.idle_timeout,
        timeout_graceful_shutdown=10,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_TIMEOUT,
    )


@contextlib.asynccontextmanager
async def org_store(args: argparse.Namespace) -> AsyncIterator[tuple[Store, Org]]:
    """The store that `--data` or `--db` names, open, with its organisation."""
    store = make_store(args.db, args.data.resolve() if args.data else Path.cwd())
    await store.open()
    try:
        org, _ = await store.ensure_org(ORG_NAME)
        yield store, org
    finally:
        await store.close()


def where_parser() -> argparse.ArgumentParser:
    """`--data` or `--db`: the store a command works on."""
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--data", type=Path, help="data folder of a SQLite server")
    where.add_argument("--db", help="postgresql://… of a PostgreSQL server")
    return where


async def manage_keys(args: argparse.Namespace) -> int:
    async with org_store(args) as (store, org):
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


def run_apikey(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sabamon apikey", description="manage API keys")
    where = where_parser()
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


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise SystemExit("sabamon user: the two passwords differ")
    return first


async def apply_user(args: argparse.Namespace, password_hash: str) -> int:
    async with org_store(args) as (store, org):
        try:
            if args.action == "add":
                await store.create_user(org.id, args.name, password_hash, int(time.time()))
                print(f"user {args.name} added")
            else:
                await store.set_user_password(args.name, password_hash)
                print(f"password of {args.name} changed; its sessions are signed out")
        except (Conflict, NotFound) as exc:
            print(f"sabamon user {args.action}: {exc}", file=sys.stderr)
            return 1
        return 0


def run_user(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sabamon user", description="manage dashboard users")
    common = argparse.ArgumentParser(add_help=False, parents=[where_parser()])
    common.add_argument("name", help="user name")
    common.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("add", parents=[common], help="add a user")
    actions.add_parser("passwd", parents=[common], help="set a user's password")
    args = parser.parse_args(argv)
    if args.data is None and args.db is None:
        parser.error("give --data DIR or --db URL")
    if not args.name.strip() or len(args.name) > 64:
        parser.error(f"NAME {args.name!r}: expected 1 to 64 characters")
    password = read_password(args.password_stdin)
    if problem := auth.password_problem(password):
        print(f"sabamon user {args.action}: {problem}", file=sys.stderr)
        return 2
    return asyncio.run(apply_user(args, auth.hash_password(password)))


def main(command: str, argv: list[str]) -> int:
    if command == "server":
        return run_server(argv)
    if command == "apikey":
        return run_apikey(argv)
    if command == "user":
        return run_user(argv)
    print(f"sabamon: unknown command {command!r}", file=sys.stderr)
    return 2
