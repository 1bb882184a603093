"""`GET /graphs/<token>.png` tells a fetcher to keep its copy no longer than the image
lasts: an image with ten minutes left is not cached for the usual hour, so no cache
serves it after it has expired."""

from __future__ import annotations

import asyncio

import httpx
from api_server import RunningApi

from sabamon.server.cli import ORG_NAME
from sabamon.server.notify import images
from sabamon.server.web.graph_images import CACHE_SECONDS


async def _publish(api: RunningApi, expires_in: int) -> str:
    store = api.backend.store()
    await store.open()
    try:
        org, _ = await store.ensure_org(ORG_NAME)
        url = await images.publish(store, org.id, b"\x89PNG", api.url, int(api.clock()))
    finally:
        await store.close()
    api.clock.offset += images.IMAGE_LIFETIME - expires_in
    return url


def test_an_image_is_cached_no_longer_than_it_lasts(api: RunningApi) -> None:
    url = asyncio.run(_publish(api, expires_in=600))
    answer = httpx.get(url, timeout=10)
    assert answer.status_code == 200 and answer.content == b"\x89PNG"
    max_age = int(answer.headers["Cache-Control"].removeprefix("public, max-age="))
    assert 0 < max_age <= 600 < CACHE_SECONDS, answer.headers["Cache-Control"]
    assert httpx.get(url + "%0A", timeout=10).status_code == 404
    api.clock.offset += 600
    assert httpx.get(url, timeout=10).status_code == 404
