"""Fixtures shared by registry-svc's tests: every store implementation, a real filesystem
blob store and the in-process event bus."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import pytest
from pkgcloud_protos.v1 import events_pb2
from pkgcloud_registry.core import RegistryCore
from pkgcloud_registry.store import RegistryStore
from pkgcloud_registry.store.mongo import MongoRegistryStore
from pkgcloud_registry.store.sqlite import SqliteRegistryStore
from pkgcloud_servicekit.blobstore.filesystem import FilesystemBlobStore
from pkgcloud_servicekit.eventbus.inprocess import InProcessEventBus
from pkgcloud_servicekit.settings import Settings

MONGO_URL = os.environ.get("PKGCLOUD_MONGO_URL", "")


class StoreFactory:
    """Opens a store of one backend; `reopen` gives a fresh store over the same data (a
    restart of the service)."""

    def __init__(self, kind: str, tmp_path: Path):
        self.kind = kind
        self.tmp_path = tmp_path
        self.db_name = f"pkgcloud_test_registry_{uuid.uuid4().hex[:12]}"
        self._mongo_client = None
        self.opened: list[RegistryStore] = []

    async def open(self) -> RegistryStore:
        if self.kind == "sqlite":
            store: RegistryStore = SqliteRegistryStore(self.tmp_path / "registry.sqlite3")
        elif self.kind == "mongomock":
            if self._mongo_client is None:
                from mongomock_motor import AsyncMongoMockClient

                self._mongo_client = AsyncMongoMockClient()
            store = MongoRegistryStore(self._mongo_client[self.db_name])
        else:
            if self._mongo_client is None:
                from motor.motor_asyncio import AsyncIOMotorClient

                self._mongo_client = AsyncIOMotorClient(MONGO_URL, serverSelectionTimeoutMS=3000)
            store = MongoRegistryStore(self._mongo_client[self.db_name])
        await store.open()
        self.opened.append(store)
        return store

    async def cleanup(self) -> None:
        for s in self.opened:
            await s.close()
        if self.kind == "mongo" and self._mongo_client is not None:
            await self._mongo_client.drop_database(self.db_name)
            self._mongo_client.close()


@pytest.fixture(params=["sqlite", "mongomock", "mongo"])
async def store_factory(request, tmp_path):
    if request.param == "mongo" and not MONGO_URL:
        pytest.skip("real MongoDB not configured: set PKGCLOUD_MONGO_URL to run the store contract against it")
    factory = StoreFactory(request.param, tmp_path)
    yield factory
    await factory.cleanup()


@pytest.fixture
async def store(store_factory):
    return await store_factory.open()


@pytest.fixture
def settings(tmp_path):
    return Settings(data_dir=tmp_path, stage_ttl_s=600, max_upload_bytes=64 * 1024 * 1024)


@pytest.fixture
def blobs(tmp_path):
    return FilesystemBlobStore(tmp_path / "blobs")


class Recorder:
    """Subscribes to every event on the bus and keeps them."""

    def __init__(self):
        self.events: list[events_pb2.Event] = []

    async def __call__(self, ev: events_pb2.Event) -> None:
        self.events.append(ev)

    def types(self) -> list[str]:
        return [e.type for e in self.events]


@pytest.fixture
async def bus():
    b = InProcessEventBus()
    await b.start()
    yield b
    await b.close()


@pytest.fixture
async def recorder(bus):
    r = Recorder()
    await bus.subscribe("test-recorder", ["#"], r)
    return r


@pytest.fixture
def core(store, blobs, settings):
    return RegistryCore(store, blobs, settings)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Helpers:
    """Test-side drivers of the upload flow (as fixtures: test modules cannot import conftest)."""

    sha = staticmethod(sha)

    @staticmethod
    async def upload(core: RegistryCore, owner: str, package: str, version: str, basename: str, data: bytes, **kw):
        """The whole staged upload as the gateway drives it: stage, form POST, commit."""
        kw.setdefault("distribution_type", "file")
        res = await core.stage(owner, package, version, basename, sha256=sha(data), form_post_url="http://gw/upload", **kw)
        key = dict(res.form_data)["key"]
        grant = await core.grant_form_upload(key)
        await core.blobs.put_bytes(grant.blob_key, data)
        return await core.commit(owner, package, version, basename, res.dist_id)

    @staticmethod
    async def release(core: RegistryCore, owner: str = "alice", package: str = "hello", version: str = "1.0") -> None:
        if await core.store.get_package(owner, package) is None:
            await core.create_package(owner, package, summary="hi")
        await core.create_release(owner, package, version, "{}")


@pytest.fixture
def h():
    return Helpers
