from __future__ import annotations

from sabamon.server.store import Store


async def test_ensure_org_creates_the_first_org_once(store: Store) -> None:
    org, created = await store.ensure_org("acme")
    assert created and org.name == "acme" and len(org.id) == 11
    assert await store.ensure_org("other") == (org, False)


async def test_api_keys(store: Store, org_id: str) -> None:
    writer = await store.create_api_key(org_id, name="agent", write=True)
    reader = await store.create_api_key(org_id, name="ro", write=False, key="fixed-key")
    assert len(writer.key) >= 40 and writer.write
    assert await store.get_api_key("fixed-key") == reader
    assert await store.list_api_keys(org_id) == sorted(
        [writer, reader], key=lambda k: (k.created_at, k.key)
    )
    assert await store.revoke_api_key("fixed-key")
    assert not await store.revoke_api_key("fixed-key")
    assert await store.get_api_key("fixed-key") is None
    assert await store.list_api_keys(org_id) == [writer]
    assert await store.ping()


async def test_generated_keys_are_alphanumeric_so_no_command_line_reads_one_as_an_option(
    store: Store, org_id: str
) -> None:
    keys = [(await store.create_api_key(org_id, name="k", write=True)).key for _ in range(50)]
    assert all(len(key) == 44 and key.isalnum() and key.isascii() for key in keys)
    assert len(set(keys)) == 50
