"""Shared fixtures: the machine's PostgreSQL and Redis, each isolated per test, and a
VictoriaMetrics started by the tests themselves.

A test that needs one of them skips when it is unreachable, except under CI=true, where a
missing service is a failure: CI must never pass by skipping the real backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from sabamon.bench.victoria import VictoriaMissing, VictoriaProcess

POSTGRES_URL = os.environ.get("SABAMON_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("SABAMON_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _unavailable(service: str, error: Exception) -> None:
    message = f"{service} unreachable: {error}"
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: a missing service fails the run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def postgres_dsn() -> Iterator[str]:
    """A DSN whose search_path is a fresh schema, dropped after the test."""
    import psycopg
    from psycopg import sql

    schema = f"test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        _unavailable("PostgreSQL", error)
        raise
    with admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
        admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def redis_url() -> Iterator[str]:
    """The Redis URL; the test's keys go under `redis_namespace`."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        _unavailable("Redis", error)
        raise
    finally:
        client.close()
    yield REDIS_URL


@pytest.fixture
def redis_namespace(redis_url: str) -> Iterator[str]:
    """A unique key prefix; every key under it is deleted after the test."""
    import redis

    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    with client:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)


def start_victoria(data_dir: Path) -> VictoriaProcess:
    """A fresh VictoriaMetrics on a free loopback port (skip, or fail under CI, if missing)."""
    from tests.support.waiting import free_port  # here: test_postgres copies this file alone

    victoria = VictoriaProcess(data_dir, free_port())
    try:
        victoria.start()
    except VictoriaMissing as error:
        _unavailable("VictoriaMetrics", error)
        raise
    return victoria


@pytest.fixture(scope="session")
def victoria(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VictoriaProcess]:
    """One VictoriaMetrics for the session. Tests isolate themselves by their organisation
    label (each store test makes a new organisation id); a test that stops or pauses
    VictoriaMetrics uses `own_victoria` instead."""
    started = start_victoria(tmp_path_factory.mktemp("victoria") / "data")
    yield started
    started.stop()


@pytest.fixture
def own_victoria(tmp_path: Path) -> Iterator[VictoriaProcess]:
    """A VictoriaMetrics of this test alone, free to be stopped, paused and restarted."""
    started = start_victoria(tmp_path / "victoria")
    yield started
    started.stop()
