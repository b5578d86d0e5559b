"""Test fixtures every service's store contract suite shares (shipped in the library so each
service's conftest reuses them rather than copying them)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

S = TypeVar("S")

STORE_BACKENDS = ["sqlite", "mongomock", "mongo"]


@asynccontextmanager
async def store_on_backend(
    kind: str, tmp_path: Path, service: str, *, sqlite: Callable[[Path], S], mongo: Callable[[Any], S]
) -> AsyncIterator[S]:
    """An open store of one backend: "sqlite" (a file under tmp_path), "mongomock"
    (mongomock-motor), or "mongo" (a throwaway database on PKGCLOUD_MONGO_URL, skipped with
    the reason when it is not set). Closed, and the real database dropped, afterwards."""
    import pytest

    client = None
    db_name = f"pkgcloud_test_{service}_{uuid.uuid4().hex[:12]}"
    if kind == "sqlite":
        store = sqlite(tmp_path / f"{service}.sqlite3")
    elif kind == "mongomock":
        from mongomock_motor import AsyncMongoMockClient

        store = mongo(AsyncMongoMockClient()[db_name])
    else:
        url = os.environ.get("PKGCLOUD_MONGO_URL", "")
        if not url:
            pytest.skip("real MongoDB not configured: set PKGCLOUD_MONGO_URL to run the contract suite against it")
        from motor.motor_asyncio import AsyncIOMotorClient

        client = AsyncIOMotorClient(url, tz_aware=True, serverSelectionTimeoutMS=5000)
        store = mongo(client[db_name])
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        if client is not None:
            await client.drop_database(db_name)
            client.close()


async def check_consumer_target_lifecycle(target: Any, tmp_path: Path, event: Any,
                                          statuses: Callable[[Any], Any]) -> None:
    """A consuming service's target (index, render) as `pkgcloud serve --target` starts it:
    its SQLite store is created, a published event is applied and shown by its status RPC
    (`statuses(channel)` -> the owner statuses), its metrics port counts it; stop closes
    everything (the metrics port answers no more), and a restart on the same data dir finds
    the event applied."""
    import urllib.error
    import urllib.request

    import pytest

    from . import listening
    from .blobstore import make_blob_store
    from .eventbus.inprocess import InProcessEventBus
    from .grpc_plumbing import open_channel
    from .settings import Settings
    from .targets import Runtime

    settings = Settings(data_dir=tmp_path, grpc_listen="127.0.0.1:0", metrics_port=0)
    bus = InProcessEventBus()
    await bus.start()
    component = await target.start(Runtime(settings=settings, mode="single", bus=bus, blobs=make_blob_store(settings)))
    metrics_port = component.metrics.bound_port
    try:
        assert metrics_port and listening.snapshot()["metrics"][target.name] == metrics_port
        assert settings.sqlite_path(target.name).exists()
        await bus.publish(event)
        async with open_channel(f"127.0.0.1:{component.grpc_port}") as channel:
            owners = await statuses(channel)
        assert [(o.owner, o.last_event_id, o.events_applied) for o in owners] == [(event.owner, event.id, 1)]
        body = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).read().decode()
        assert f'pkgcloud_{target.name}_events_total{{result="applied"}}' in body
    finally:
        await component.stop()
        await bus.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
    bus = InProcessEventBus()
    await bus.start()
    component = await target.start(Runtime(settings=settings, mode="single", bus=bus, blobs=make_blob_store(settings)))
    try:
        assert await component.store.is_applied(event.id)
    finally:
        await component.stop()
        await bus.close()
