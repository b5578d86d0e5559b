"""SQLite as the services' embedded metadata database.

One writer connection guarded by an asyncio.Lock (SQLite has one writer anyway; queuing in
the event loop beats busy-waiting on file locks), `BEGIN IMMEDIATE` transactions, WAL so
readers never block on the writer, and a small pool of reader connections so a read never
sees a transaction that is still open.

A read takes one reader connection for itself and runs its statement to the end in one
step on that connection's thread (aiosqlite's execute_fetchall). So no statement is left
half-stepped between reads: in autocommit mode SQLite ends the read transaction as soon as
the statement is done, and the next read starts a fresh snapshot that sees every write
committed before it began, by this process or another one sharing the file (docs/adr/0009).

Schema versions are applied in order and recorded in `PRAGMA user_version`; the version is
read under the write lock (`BEGIN IMMEDIATE`), so replicas opening one fresh file together
apply each migration exactly once and the others find it done.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

# Readers per database: reads run in parallel on their own threads (SQLite releases the
# GIL while it works); more than a handful only adds threads on a small machine.
READERS = 4
BUSY_TIMEOUT_MS = 10000


class SqliteDatabase:
    def __init__(self, path: Path | str, migrations: Sequence[str], readers: int = READERS):
        """migrations[i] is the SQL script that takes the schema from version i to i+1."""
        self.path = str(path)
        self.migrations = list(migrations)
        self._writer: aiosqlite.Connection | None = None
        self._readers: asyncio.Queue[aiosqlite.Connection] | None = None
        self._reader_conns: list[aiosqlite.Connection] = []
        self._reader_count = max(1, readers)
        self._lock = asyncio.Lock()

    async def open(self) -> SqliteDatabase:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._writer = await self._connect()
            await self._migrate()
            if self.path == ":memory:":
                # one private database per connection: the writer is the only reader
                self._reader_conns = [self._writer]
            else:
                self._reader_conns = [await self._connect() for _ in range(self._reader_count)]
        except BaseException:
            # a failed start must not leave connection threads behind (they keep the
            # process alive: it would hang instead of exiting)
            await self.close()
            raise
        self._readers = asyncio.Queue()
        for conn in self._reader_conns:
            self._readers.put_nowait(conn)
        return self

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            # busy_timeout first: switching a fresh file to WAL takes a lock another
            # replica opening it at the same moment may hold
            await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
        except BaseException:
            await conn.close()
            raise
        return conn

    async def _migrate(self) -> None:
        """Each pending migration in its own BEGIN IMMEDIATE transaction, the version read
        after the write lock is held: a concurrent opener waits for the lock (busy_timeout)
        and then sees the new version instead of running the same script again."""
        assert self._writer
        while True:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
                (version,) = (await self._writer.execute_fetchall("PRAGMA user_version"))[0]
                if version >= len(self.migrations):
                    await self._writer.execute("COMMIT")
                    return
                for stmt in _split_sql(self.migrations[version]):
                    await self._writer.execute(stmt)
                await self._writer.execute(f"PRAGMA user_version={version + 1}")
                await self._writer.execute("COMMIT")
            except BaseException:
                await asyncio.shield(self._rollback())
                raise

    async def _rollback(self) -> None:
        """End whatever transaction the writer may hold, whenever its statements run.

        The writer's statements run in order on its own thread, also those of a task that
        was cancelled meanwhile: a BEGIN whose awaiting task was cancelled while it waited for
        the write lock still runs once the lock is free, and would then hold it for good (a
        replica's handler cancelled as its broker connection dropped left the other replica
        "database is locked" forever). So the ROLLBACK is always queued, behind that BEGIN,
        and "no transaction is active" is the answer when there was none."""
        assert self._writer
        try:
            await self._writer.execute("ROLLBACK")
        except sqlite3.OperationalError as e:
            if "no transaction is active" not in str(e):
                raise

    async def close(self) -> None:
        conns = [c for c in self._reader_conns if c is not self._writer]
        if self._writer is not None:
            conns.append(self._writer)
        self._reader_conns = []
        self._readers = None
        self._writer = None
        for conn in conns:
            await conn.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT on the writer; rolls back on any exception."""
        assert self._writer, "database not open"
        async with self._lock:
            try:
                # inside the try: a task cancelled while its BEGIN waits for the lock still gets
                # the BEGIN run (_rollback), and a failed COMMIT leaves no transaction open
                await self._writer.execute("BEGIN IMMEDIATE")
                yield self._writer
                await self._writer.execute("COMMIT")
            except BaseException:
                # shielded: a cancelled task must not leave the transaction open
                await asyncio.shield(self._rollback())
                raise

    async def _read(self, sql: str, params: Sequence[Any]) -> list[aiosqlite.Row]:
        readers = self._readers
        assert readers is not None, "database not open"
        conn = await readers.get()
        try:
            # one step on the connection's thread: the statement is run to its end, so
            # no read transaction outlives this call
            return list(await conn.execute_fetchall(sql, params))
        finally:
            readers.put_nowait(conn)

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        rows = await self._read(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        return await self._read(sql, params)


def _split_sql(script: str) -> list[str]:
    # Migrations are plain DDL/DML without triggers, so ';' ends a statement.
    return [s.strip() for s in script.split(";") if s.strip()]
