"""Shared fixtures of auth-svc's tests: every store implementation, a cheap real hasher."""

from __future__ import annotations

import os
import uuid

import argon2
import pytest

from pkgcloud_auth.passwords import Passwords
from pkgcloud_auth.store.mongo import MongoAuthStore
from pkgcloud_auth.store.sqlite import SqliteAuthStore

STORE_KINDS = ["sqlite", "mongomock", "mongo"]


def cheap_hasher() -> argon2.PasswordHasher:
    # Real argon2id, with the smallest cost it accepts: tests hash often on 2 cores.
    return argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(cheap_hasher())


async def _open_store(kind: str, tmp_path):
    if kind == "sqlite":
        store = SqliteAuthStore(tmp_path / "auth.sqlite3")
        await store.open()
        return store, None
    if kind == "mongomock":
        from mongomock_motor import AsyncMongoMockClient

        store = MongoAuthStore(AsyncMongoMockClient()["pkgcloud_auth_test"])
        await store.open()
        return store, None
    url = os.environ.get("PKGCLOUD_MONGO_URL")
    if not url:
        pytest.skip("PKGCLOUD_MONGO_URL is not set: no real MongoDB to test against")
    from motor.motor_asyncio import AsyncIOMotorClient

    client = AsyncIOMotorClient(url, tz_aware=True)
    name = f"pkgcloud_auth_test_{uuid.uuid4().hex[:12]}"
    store = MongoAuthStore(client[name])
    await store.open()

    async def drop():
        cleanup = AsyncIOMotorClient(url)
        await cleanup.drop_database(name)
        cleanup.close()

    return store, drop


@pytest.fixture(params=STORE_KINDS)
async def any_store(request, tmp_path):
    """Every AuthStore implementation, opened on an empty database."""
    store, cleanup = await _open_store(request.param, tmp_path)
    try:
        yield store
    finally:
        await store.close()
        if cleanup:
            await cleanup()


class Clock:
    """A settable wall clock, so expiry and throttling windows are tested without sleeping."""

    def __init__(self, now: float = 1_700_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def bus():
    from pkgcloud_servicekit.eventbus.inprocess import InProcessEventBus

    b = InProcessEventBus(max_attempts=1)
    await b.start()
    yield b
    await b.close()


@pytest.fixture
async def core(any_store, bus, passwords, clock):
    from pkgcloud_auth.core import AuthCore

    return AuthCore(any_store, bus, passwords=passwords, clock=clock, login_failure_limit=3, addr_failure_limit=5, failure_window_s=60)
