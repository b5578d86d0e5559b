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
