"""Dashboard accounts: the first `admin`, and the `sabamon user add|passwd` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import secrets
import sys
import time
from pathlib import Path

from sabamon.server.store.base import Conflict, NotFound, Store

from . import auth

log = logging.getLogger(__name__)
BOOTSTRAP_PASSWORD_ENV = "SABAMON_BOOTSTRAP_PASSWORD"
ADMIN = "admin"


async def ensure_admin(store: Store, org_id: str, password: str | None = None) -> str | None:
    """Creates `admin` when the organisation has no user yet.

    The password is `password` (from SABAMON_BOOTSTRAP_PASSWORD) or a random one, which is
    returned so the caller prints it once; None when nothing was created or it was given.
    """
    if await store.list_users(org_id):
        return None
    chosen = password or secrets.token_urlsafe(12)
    hashed = await asyncio.to_thread(auth.hash_password, chosen)
    try:
        await store.create_user(org_id, ADMIN, hashed, int(time.time()))
    except Conflict:
        return None
    log.info("event=user_created user=%s", ADMIN)
    return None if password else chosen


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise SystemExit("sabamon user: the two passwords differ")
    return first


async def _apply(args: argparse.Namespace, password_hash: str) -> int:
    from sabamon.server.cli import ORG_NAME, make_store

    store = make_store(args.db, args.data.resolve() if args.data else Path.cwd())
    await store.open()
    try:
        org, _ = await store.ensure_org(ORG_NAME)
        if args.action == "add":
            await store.create_user(org.id, args.name, password_hash, int(time.time()))
            print(f"user {args.name} added")
        else:
            await store.set_user_password(args.name, password_hash)
            print(f"password of {args.name} changed; its sessions are signed out")
        return 0
    except (Conflict, NotFound) as exc:
        print(f"sabamon user {args.action}: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()


def run_user(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sabamon user", description="manage dashboard users")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("name", help="user name")
    common.add_argument("--data", type=Path, help="data folder of a SQLite server")
    common.add_argument("--db", help="postgresql://… of a PostgreSQL server")
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
    password = _read_password(args.password_stdin)
    if problem := auth.password_problem(password):
        print(f"sabamon user {args.action}: {problem}", file=sys.stderr)
        return 2
    return asyncio.run(_apply(args, auth.hash_password(password)))
