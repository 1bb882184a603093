"""Users and sessions in the store, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sabamon.server.store import Store, open_store
from sabamon.server.store.records import Conflict, NotFound, Retention, WebSession


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    url = request.getfixturevalue("postgres_dsn") if request.param == "postgres" else None
    opened = open_store(url, tmp_path, Retention())
    await opened.open()
    yield opened
    await opened.close()


async def test_users_and_sessions(store: Store) -> None:
    org, _ = await store.ensure_org("default")
    await store.create_user(org.id, "admin", "hash-1", 100)
    with pytest.raises(Conflict, match="'admin' already exists"):
        await store.create_user(org.id, "admin", "hash-2", 100)
    assert [u.name for u in await store.list_users(org.id)] == ["admin"]
    await store.create_session(WebSession("digest-a", "admin", 100, 200))
    await store.create_session(WebSession("digest-b", "admin", 100, 150))
    user = await store.session_user("digest-a", 199)
    assert user is not None and user.password_hash == "hash-1"
    assert await store.session_user("digest-a", 200) is None  # expired
    await store.delete_session("digest-x", 160)  # sweeps the expired digest-b
    assert await store.session_user("digest-b", 100) is None
    await store.set_user_password("admin", "hash-3")
    assert await store.session_user("digest-a", 120) is None  # signed out everywhere
    assert (await store.get_user("admin")).password_hash == "hash-3"  # type: ignore[union-attr]
    with pytest.raises(NotFound):
        await store.set_user_password("nobody", "x")


async def test_graph_images_last_until_they_expire(store: Store) -> None:
    org, _ = await store.ensure_org("default")
    await store.put_graph_image(org.id, "digest-a", b"\x89PNG a", 200, 100)
    await store.put_graph_image(org.id, "digest-b", b"\x89PNG b", 300, 100)
    assert await store.graph_image("digest-a", 199) == (b"\x89PNG a", 200)
    assert await store.graph_image("digest-a", 200) is None  # expired
    assert await store.graph_image("digest-x", 100) is None  # unknown
    await store.put_graph_image(org.id, "digest-c", b"\x89PNG c", 400, 250)  # sweeps digest-a
    assert await store.graph_image("digest-a", 0) is None
    assert await store.graph_image("digest-b", 250) == (b"\x89PNG b", 300)


async def test_a_users_time_zone_is_kept_and_read_with_the_session(store: Store) -> None:
    org, _ = await store.ensure_org("default")
    await store.create_user(org.id, "ann", "hash", 100)
    await store.create_user(org.id, "ben", "hash", 100)
    await store.create_session(WebSession("digest-ann", "ann", 100, 900))
    assert (await store.get_user("ann")).time_zone is None  # type: ignore[union-attr]
    await store.set_user_time_zone("ann", "Asia/Tokyo")
    user = await store.session_user("digest-ann", 200)
    assert user is not None and user.time_zone == "Asia/Tokyo"
    assert (await store.get_user("ben")).time_zone is None  # type: ignore[union-attr]
    await store.set_user_time_zone("ann", None)  # back to the browser's
    assert [u.time_zone for u in await store.list_users(org.id)] == [None, None]
    with pytest.raises(NotFound):
        await store.set_user_time_zone("nobody", "UTC")
