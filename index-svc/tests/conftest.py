"""Fixtures shared by index-svc's tests: the store over every backend."""

from __future__ import annotations

import os
import uuid

import pytest
from mongomock_motor import AsyncMongoMockClient
from pkgcloud_index.store.mongo import MongoIndexStore
from pkgcloud_index.store.sqlite import SqliteIndexStore

MONGO_URL = os.environ.get("PKGCLOUD_MONGO_URL", "")


@pytest.fixture(params=["sqlite", "mongomock", "mongo"])
async def index_store(request, tmp_path):
    """An open IndexStore on each backend; real MongoDB only when PKGCLOUD_MONGO_URL is set."""
    client = None
    db_name = f"pkgcloud_test_index_{uuid.uuid4().hex[:12]}"
    if request.param == "sqlite":
        store = SqliteIndexStore(tmp_path / "index.sqlite3")
    elif request.param == "mongomock":
        store = MongoIndexStore(AsyncMongoMockClient()[db_name])
    else:
        if not MONGO_URL:
            pytest.skip("real MongoDB not configured: set PKGCLOUD_MONGO_URL to run the contract suite against it")
        from motor.motor_asyncio import AsyncIOMotorClient

        client = AsyncIOMotorClient(MONGO_URL, tz_aware=True, serverSelectionTimeoutMS=5000)
        store = MongoIndexStore(client[db_name])
    await store.open()
    try:
        yield store
    finally:
        await store.close()
        if client is not None:
            await client.drop_database(db_name)
            client.close()
