"""Shared fixtures of auth-svc's tests: every store implementation, a cheap real hasher."""

from __future__ import annotations

import argon2
import pytest
from pkgcloud_auth.passwords import Passwords
from pkgcloud_auth.store.mongo import MongoAuthStore
from pkgcloud_auth.store.sqlite import SqliteAuthStore
from pkgcloud_servicekit.testing import STORE_BACKENDS, store_on_backend


def cheap_hasher() -> argon2.PasswordHasher:
    # Real argon2id, with the smallest cost it accepts: tests hash often on 2 cores.
    return argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(cheap_hasher())


@pytest.fixture(params=STORE_BACKENDS)
async def any_store(request, tmp_path):
    """Every AuthStore implementation, opened on an empty database."""
    async with store_on_backend(request.param, tmp_path, "auth", sqlite=SqliteAuthStore, mongo=MongoAuthStore) as store:
        yield store


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
