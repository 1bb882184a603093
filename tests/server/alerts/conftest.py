"""The store under test (SQLite and PostgreSQL) and a self-signed certificate."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sabamon.server.store import Store
from sabamon.server.store.postgres import PostgresBackend
from sabamon.server.store.sqlite import SQLiteBackend


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        opened: Store = Store(SQLiteBackend(tmp_path / "sabamon.db"))
    else:
        opened = Store(PostgresBackend(request.getfixturevalue("postgres_dsn"), pool_size=4))
    await opened.open()
    yield opened
    await opened.close()


@pytest.fixture
async def org_id(store: Store) -> str:
    org, _ = await store.ensure_org("test")
    return org.id


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(cert, key) for 127.0.0.1, valid 5 days, made with the openssl CLI."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "5", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key
