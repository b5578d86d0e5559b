"""SQLite as the services' embedded metadata database.

One writer connection guarded by an asyncio.Lock (SQLite has one writer anyway; queuing in
the event loop beats busy-waiting on file locks), `BEGIN IMMEDIATE` transactions, WAL so
readers never block on the writer, and a separate reader connection so a read never sees a
transaction that is still open. Schema versions are applied in order and recorded in
`PRAGMA user_version`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite


class SqliteDatabase:
    def __init__(self, path: Path | str, migrations: Sequence[str]):
        """migrations[i] is the SQL script that takes the schema from version i to i+1."""
        self.path = str(path)
        self.migrations = list(migrations)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> SqliteDatabase:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._connect()
        await self._migrate()
        self._reader = await self._connect() if self.path != ":memory:" else self._writer
        return self

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA busy_timeout=10000")
        await conn.execute("PRAGMA foreign_keys=ON")
        return conn

    async def _migrate(self) -> None:
        assert self._writer
        async with self._writer.execute("PRAGMA user_version") as cur:
            (version,) = await cur.fetchone()
        for i in range(version, len(self.migrations)):
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                for stmt in _split_sql(self.migrations[i]):
                    await self._writer.execute(stmt)
                await self._writer.execute(f"PRAGMA user_version={i + 1}")
                await self._writer.execute("COMMIT")
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        if self._reader is not None and self._reader is not self._writer:
            await self._reader.close()
        if self._writer is not None:
            await self._writer.close()
        self._reader = self._writer = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT on the writer; rolls back on any exception."""
        assert self._writer, "database not open"
        async with self._lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        assert self._reader, "database not open"
        async with self._reader.execute(sql, params) as cur:
            return await cur.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        assert self._reader, "database not open"
        async with self._reader.execute(sql, params) as cur:
            return list(await cur.fetchall())


def _split_sql(script: str) -> list[str]:
    # Migrations are plain DDL/DML without triggers, so ';' ends a statement.
    return [s.strip() for s in script.split(";") if s.strip()]
