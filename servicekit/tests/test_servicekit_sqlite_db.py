"""SqliteDatabase: ordered, once-only migrations and all-or-nothing transactions."""

from __future__ import annotations

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


async def test_readers_do_not_see_an_open_transaction(tmp_path):
    db = await SqliteDatabase(tmp_path / "svc.sqlite3", [V1]).open()
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t (name) VALUES ('pending')")
            assert await db.fetchone("SELECT 1 FROM t WHERE name = 'pending'") is None
        assert await db.fetchone("SELECT 1 FROM t WHERE name = 'pending'") is not None
    finally:
        await db.close()
