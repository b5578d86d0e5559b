"""Reads see every committed write, under concurrency, on every metadata backend.

Many readers overlap (as the requests of a busy service do) while one writer commits rows;
every read that starts after a commit returned must find that row. The store here is the
smallest one each backend allows; the services' stores read through the same pieces
(SqliteDatabase.fetchone/fetchall, a motor collection's find_one)."""

from __future__ import annotations

import asyncio
import random

import pytest
from pkgcloud_servicekit.sqlite_db import SqliteDatabase
from pkgcloud_servicekit.testing import STORE_BACKENDS, store_on_backend


class SqliteKeys:
    def __init__(self, path):
        self.db = SqliteDatabase(path, ["CREATE TABLE keys (k TEXT PRIMARY KEY, n INTEGER NOT NULL)"])

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()

    async def add(self, key: str, n: int) -> None:
        async with self.db.transaction() as conn:
            await conn.execute("INSERT INTO keys (k, n) VALUES (?, ?)", (key, n))

    async def has(self, key: str) -> bool:
        return await self.db.fetchone("SELECT n FROM keys WHERE k = ?", (key,)) is not None

    async def count(self) -> int:
        return len(await self.db.fetchall("SELECT k FROM keys"))


class MongoKeys:
    def __init__(self, database):
        self.coll = database["keys"]

    async def open(self) -> None:
        await self.coll.create_index("n")

    async def close(self) -> None:
        return None

    async def add(self, key: str, n: int) -> None:
        await self.coll.insert_one({"_id": key, "n": n})

    async def has(self, key: str) -> bool:
        return await self.coll.find_one({"_id": key}) is not None

    async def count(self) -> int:
        return len([d async for d in self.coll.find({}, {"_id": 1})])


WRITES = 150
READERS_PER_WRITE = 8
NOISE_READERS = 16


@pytest.mark.parametrize("backend", STORE_BACKENDS)
async def test_every_read_after_a_commit_sees_it_while_many_reads_overlap(backend, tmp_path):
    async with store_on_backend(backend, tmp_path, "keys", sqlite=SqliteKeys, mongo=MongoKeys) as store:
        misses: list[str] = []
        reads = 0
        done = asyncio.Event()
        rng = random.Random(12)

        async def noise() -> None:
            # readers that are always somewhere in the middle of a read
            nonlocal reads
            while not done.is_set():
                await store.count()
                reads += 1
                await asyncio.sleep(0)  # mongomock never yields on its own

        async def must_see(key: str) -> None:
            nonlocal reads
            await asyncio.sleep(rng.random() * 0.002)
            if not await store.has(key):
                misses.append(key)
            reads += 1

        noisy = [asyncio.create_task(noise()) for _ in range(NOISE_READERS)]
        checks: list[asyncio.Task] = []
        try:
            for n in range(WRITES):
                key = f"upload-key-{n}"
                await store.add(key, n)  # committed when this returns
                checks += [asyncio.create_task(must_see(key)) for _ in range(READERS_PER_WRITE)]
                await asyncio.sleep(0)
            await asyncio.gather(*checks)
        finally:
            done.set()
            await asyncio.gather(*noisy)
        assert misses == []
        assert reads >= WRITES * READERS_PER_WRITE
        assert await store.count() == WRITES


async def test_a_read_sees_a_commit_made_by_another_connection_to_the_same_file(tmp_path):
    """Two replicas on one SQLite file: what one commits, the other reads at once, even
    while its own readers are busy."""
    path = tmp_path / "shared.sqlite3"
    a, b = SqliteKeys(path), SqliteKeys(path)
    await a.open()
    await b.open()
    try:
        done = asyncio.Event()

        async def noise() -> None:
            while not done.is_set():
                await b.count()
                await asyncio.sleep(0)

        noisy = [asyncio.create_task(noise()) for _ in range(8)]
        try:
            missing = []
            for n in range(100):
                await a.add(f"k{n}", n)
                if not await b.has(f"k{n}"):
                    missing.append(n)
        finally:
            done.set()
            await asyncio.gather(*noisy)
        assert missing == []
    finally:
        await a.close()
        await b.close()
