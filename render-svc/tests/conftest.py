"""Fixtures shared by render-svc's tests: the store over every backend."""

from __future__ import annotations

import pytest
from pkgcloud_render.store.mongo import MongoRenderStore
from pkgcloud_render.store.sqlite import SqliteRenderStore
from pkgcloud_servicekit.testing import STORE_BACKENDS, store_on_backend


@pytest.fixture(params=STORE_BACKENDS)
async def render_store(request, tmp_path):
    """An open RenderStore on each backend; real MongoDB only when PKGCLOUD_MONGO_URL is set."""
    async with store_on_backend(request.param, tmp_path, "render", sqlite=SqliteRenderStore, mongo=MongoRenderStore) as store:
        yield store
