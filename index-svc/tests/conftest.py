"""Fixtures shared by index-svc's tests: the store over every backend."""

from __future__ import annotations

import pytest
from pkgcloud_index.store.mongo import MongoIndexStore
from pkgcloud_index.store.sqlite import SqliteIndexStore
from pkgcloud_servicekit.testing import STORE_BACKENDS, store_on_backend


@pytest.fixture(params=STORE_BACKENDS)
async def index_store(request, tmp_path):
    """An open IndexStore on each backend; real MongoDB only when PKGCLOUD_MONGO_URL is set."""
    async with store_on_backend(request.param, tmp_path, "index", sqlite=SqliteIndexStore, mongo=MongoIndexStore) as store:
        yield store
