"""SqliteDatabase: ordered, once-only migrations and all-or-nothing transactions."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from pkgcloud_servicekit.sqlite_db import SqliteDatabase

V1 = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE); INSERT INTO t (name) VALUES ('seed')"
V2 = "ALTER TABLE t ADD COLUMN note TEXT; CREATE INDEX t_note ON t (note)"


async def version(db: SqliteDatabase) -> int:
    return (await db.fetchone("PRAGMA user_version"))[0]


async def test_migrations_run_once_in_order_and_resume(tmp_path):
    path = tmp_path / "db" / "svc.sqlite3"
    db = await SqliteDatabase(path, [V1]).open()
    assert await version(db) == 1
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO t (name) VALUES ('kept')")
    await db.close()

    # reopening re-runs nothing (V1 again would fail: the table and the seed row exist)
    db = await SqliteDatabase(path, [V1, V2]).open()
    try:
        assert await version(db) == 2
        rows = await db.fetchall("SELECT name, note FROM t ORDER BY id")
        assert [tuple(r) for r in rows] == [("seed", None), ("kept", None)]
    finally:
        await db.close()

    db = await SqliteDatabase(path, [V1, V2]).open()
    try:
        assert await version(db) == 2
        assert len(await db.fetchall("SELECT * FROM t")) == 2
    finally:
        await db.close()


async def test_a_failing_migration_changes_nothing(tmp_path):
    path = tmp_path / "svc.sqlite3"
    db = await SqliteDatabase(path, [V1]).open()
    await db.close()
    broken = "CREATE TABLE u (x); INSERT INTO no_such_table VALUES (1)"
    with pytest.raises(Exception, match="no_such_table"):
        await SqliteDatabase(path, [V1, broken]).open()
    db = await SqliteDatabase(path, [V1]).open()
    try:
        assert await version(db) == 1
        assert await db.fetchone("SELECT name FROM sqlite_master WHERE name = 'u'") is None
    finally:
        await db.close()


async def test_a_transaction_rolls_back_on_an_exception(tmp_path):
    db = await SqliteDatabase(tmp_path / "svc.sqlite3", [V1]).open()
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t (name) VALUES ('half')")
                await conn.execute("UPDATE t SET name = 'renamed' WHERE name = 'seed'")
                raise RuntimeError("boom")
        assert [r["name"] for r in await db.fetchall("SELECT name FROM t")] == ["seed"]

        # a constraint violation midway undoes the statements before it too
        with pytest.raises(Exception, match="UNIQUE"):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t (name) VALUES ('first')")
                await conn.execute("INSERT INTO t (name) VALUES ('seed')")
        assert [r["name"] for r in await db.fetchall("SELECT name FROM t")] == ["seed"]

        # and the writer is usable afterwards
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t (name) VALUES ('after')")
        assert [r["name"] for r in await db.fetchall("SELECT name FROM t ORDER BY id")] == ["seed", "after"]
    finally:
        await db.close()


async def test_a_task_cancelled_while_its_begin_waits_leaves_no_lock_behind(tmp_path):
    """Two stores on one file (two replicas). The second's transaction is cancelled while its
    BEGIN IMMEDIATE waits for the first's write lock: the BEGIN still runs on its thread once
    the lock is free, and must not keep the lock (the first would then wait out its busy
    timeout and fail "database is locked", for good)."""
    first = await SqliteDatabase(tmp_path / "svc.sqlite3", [V1]).open()
    second = await SqliteDatabase(tmp_path / "svc.sqlite3", [V1]).open()
    try:
        begun = asyncio.Event()
        original = second._writer.execute

        def execute(sql, *args):
            if sql == "BEGIN IMMEDIATE":
                begun.set()
            return original(sql, *args)

        second._writer.execute = execute
        release = asyncio.Event()

        async def hold() -> None:
            async with first.transaction() as conn:
                await conn.execute("INSERT INTO t (name) VALUES ('first')")
                await release.wait()

        async def wait_for_the_lock() -> None:
            async with second.transaction() as conn:
                await conn.execute("INSERT INTO t (name) VALUES ('never')")

        holder = asyncio.create_task(hold())
        while not first._writer.in_transaction:
            await asyncio.sleep(0.01)
        waiter = asyncio.create_task(wait_for_the_lock())
        await begun.wait()
        await asyncio.sleep(0.05)  # the BEGIN is on the writer's thread, in SQLite's busy wait
        waiter.cancel()
        release.set()
        await holder
        with pytest.raises(asyncio.CancelledError):
            await waiter
        # statements run in order on the writer's thread: once this one ran, so did the BEGIN
        await original("SELECT 1")
        assert not second._writer.in_transaction
        # the second's late BEGIN ran and was rolled back: the first writes at once
        async with asyncio.timeout(5):  # the busy timeout is 10 s: a kept lock fails here
            async with first.transaction() as conn:
                await conn.execute("INSERT INTO t (name) VALUES ('after')")
        assert [r["name"] for r in await first.fetchall("SELECT name FROM t ORDER BY id")] == ["seed", "first", "after"]
    finally:
        await second.close()
        await first.close()


async def test_readers_do_not_see_an_open_transaction(tmp_path):
    db = await SqliteDatabase(tmp_path / "svc.sqlite3", [V1]).open()
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t (name) VALUES ('pending')")
            assert await db.fetchone("SELECT 1 FROM t WHERE name = 'pending'") is None
        assert await db.fetchone("SELECT 1 FROM t WHERE name = 'pending'") is not None
    finally:
        await db.close()


# Replicas started together on a fresh store: each migration runs exactly once (V1's seed
# row is UNIQUE, so a second run would fail), every opener ends at the last version.
SLOW = ["CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE); INSERT INTO t (name) VALUES ('seed')"] + [
    f"CREATE TABLE t{i} (x); INSERT INTO t (name) VALUES ('m{i}')" for i in range(1, 30)
]


async def test_stores_opening_one_fresh_file_together_migrate_it_once(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    dbs = [SqliteDatabase(path, SLOW) for _ in range(4)]
    opened = await asyncio.gather(*(db.open() for db in dbs), return_exceptions=True)
    try:
        assert [type(o).__name__ for o in opened] == ["SqliteDatabase"] * 4
        for db in dbs:
            assert await version(db) == len(SLOW)
        rows = await dbs[0].fetchall("SELECT name FROM t ORDER BY id")
        assert [r["name"] for r in rows] == ["seed"] + [f"m{i}" for i in range(1, 30)]
    finally:
        for db in dbs:
            await db.close()


_OPENER = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from test_servicekit_sqlite_db import SLOW
from pkgcloud_servicekit.sqlite_db import SqliteDatabase

async def main():
    sys.stdin.readline()  # every process is ready: open at the same moment
    db = await SqliteDatabase({path!r}, SLOW).open()
    (v,) = await db.fetchone("PRAGMA user_version")
    await db.close()
    print(v, flush=True)

asyncio.run(main())
"""


async def test_processes_opening_one_fresh_file_together_migrate_it_once(tmp_path):
    path = tmp_path / "fresh.sqlite3"
    code = _OPENER.format(tests=str(Path(__file__).parent), path=str(path))
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    try:
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [await asyncio.to_thread(p.communicate, timeout=60) for p in procs]
        assert [(p.returncode, out.strip()) for p, (out, _err) in zip(procs, results, strict=True)] == [(0, str(len(SLOW)))] * 3, results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    db = await SqliteDatabase(path, SLOW).open()
    try:
        assert len(await db.fetchall("SELECT name FROM t")) == len(SLOW)
    finally:
        await db.close()


def test_a_failed_open_leaves_no_thread_behind(tmp_path):
    """A start that fails must exit: aiosqlite's connection threads are not daemons, so a
    connection left open keeps the process alive after the error."""
    code = (
        "import asyncio\n"
        "from pkgcloud_servicekit.sqlite_db import SqliteDatabase\n"
        f"asyncio.run(SqliteDatabase({str(tmp_path / 'x.sqlite3')!r}, ['CREATE TABLE a (x)', 'INSERT INTO nowhere VALUES (1)']).open())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "no such table: nowhere" in proc.stderr
