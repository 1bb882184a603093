"""The delivery log through the API: a read-only key sees that a receiver refused, never
what the receiver answered (an internal URL's body is not for every reader)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from tests.server.api.api_server import Backend, ManualClock, free_socket, serve_in_thread
from tests.server.api.test_api_alerts import FAST
from tests.server.notify.receiver import receiving

from sabamon.server.app import create_app
from sabamon.server.cli import bootstrap
from sabamon.server.store import Store


async def read_only_key(store: Store) -> str:
    await store.open()
    try:
        org, _ = await store.ensure_org("default")
        return (await store.create_api_key(org.id, name="reader", write=False)).key
    finally:
        await store.close()


def test_read_only_keys_see_no_receiver_body(tmp_path: Path) -> None:
    backend = Backend("sqlite", None, tmp_path)
    write_key = asyncio.run(bootstrap(backend.store()))
    assert write_key is not None
    read_key = asyncio.run(read_only_key(backend.store()))
    sock = free_socket()
    app = create_app(backend.store(), clock=ManualClock(), alerting=FAST)
    running, thread = serve_in_thread(app, sock)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        with (
            receiving(fail_first=100) as receiver,
            httpx.Client(base_url=url, headers={"X-Api-Key": write_key.key}) as writer,
            httpx.Client(base_url=url, headers={"X-Api-Key": read_key}) as reader,
        ):
            body = {"type": "webhook", "name": "hook", "url": receiver.url}
            channel_id = writer.post("/api/v0/channels", json=body).json()["id"]
            assert writer.post(f"/api/v0/channels/{channel_id}/test").status_code == 200
            path = f"/api/v0/channels/{channel_id}/deliveries"
            deadline = time.monotonic() + 10
            while not (log := writer.get(path).json()["deliveries"])[0]["lastError"]:
                assert time.monotonic() < deadline, "the test notification was never tried"
                time.sleep(0.02)
            assert log[0]["lastError"] == "HTTP 503: ok"
            [seen] = reader.get(path).json()["deliveries"]
            assert seen["lastError"] == "HTTP 503"
    finally:
        running.should_exit = True
        thread.join(timeout=15)
