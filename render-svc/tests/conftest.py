"""Fixtures shared by render-svc's tests: the store over every backend."""

from __future__ import annotations

import os
import uuid

import pytest
from mongomock_motor import AsyncMongoMockClient
from pkgcloud_render.store.mongo import MongoRenderStore
from pkgcloud_render.store.sqlite import SqliteRenderStore

MONGO_URL = os.environ.get("PKGCLOUD_MONGO_URL", "")


@pytest.fixture(params=["sqlite", "mongomock", "mongo"])
async def render_store(request, tmp_path):
    """An open RenderStore on each backend; real MongoDB only when PKGCLOUD_MONGO_URL is set."""
    client = None
    db_name = f"pkgcloud_test_render_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        store = SqliteRenderStore(tmp_path / "render.sqlite3")
    elif request.param == "mongomock":
        store = MongoRenderStore(AsyncMongoMockClient()[db_name])
    else:
        if not MONGO_URL:
            pytest.skip("real MongoDB not configured: set PKGCLOUD_MONGO_URL to run the contract suite against it")
        from motor.motor_asyncio import AsyncIOMotorClient

        client = AsyncIOMotorClient(MONGO_URL, tz_aware=True, serverSelectionTimeoutMS=5000)
        store = MongoRenderStore(client[db_name])
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        if client is not None:
            await client.drop_database(db_name)
            client.close()
