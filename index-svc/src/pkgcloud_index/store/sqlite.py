"""index-svc's store on SQLite: the event, its effects and the owner's status in one
BEGIN IMMEDIATE transaction, so a crash leaves either all of it or none."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import aiosqlite
from pkgcloud_servicekit import event_ledger as ledger
from pkgcloud_servicekit.sqlite_db import SqliteDatabase

from .interfaces import (
    AppliedEvent,
    FileChange,
    IndexedFile,
    IndexStore,
    OwnerStatus,
    RemoveFile,
    RemovePackage,
    SetPackagePrivacy,
    UnknownChange,
    UpsertFile,
)

MIGRATIONS = [
    """
    CREATE TABLE applied_events (
        event_id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        event_type TEXT NOT NULL,
        applied_at_ms INTEGER NOT NULL
    );
    CREATE TABLE owner_status (
        owner TEXT PRIMARY KEY,
        last_event_id TEXT NOT NULL,
        last_event_type TEXT NOT NULL,
        applied_at_ms INTEGER NOT NULL,
        events_applied INTEGER NOT NULL
    );
    CREATE TABLE files (
        owner TEXT NOT NULL,
        package TEXT NOT NULL,
        version TEXT NOT NULL,
        basename TEXT NOT NULL,
        type TEXT NOT NULL,
        subdir TEXT NOT NULL,
        labels_json TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        public INTEGER NOT NULL,
        attrs_json TEXT NOT NULL,
        PRIMARY KEY (owner, package, version, basename)
    );
    CREATE INDEX files_by_subdir ON files (owner, type, subdir)
    """,
    # PyPI simple pages (issue 4)
    """
    ALTER TABLE files ADD COLUMN upload_time_ms INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN yanked INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE files ADD COLUMN yanked_reason TEXT NOT NULL DEFAULT ''
    """,
]

_FILE_COLUMNS = (
    "owner, package, version, basename, type, subdir, labels_json, sha256, size, public, attrs_json, "
    "upload_time_ms, yanked, yanked_reason"
)


class SqliteIndexStore(IndexStore):
    def __init__(self, path: Path | str):
        self.db = SqliteDatabase(path, MIGRATIONS)

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()

    async def apply_event(self, event: AppliedEvent, changes: Sequence[FileChange]) -> bool:
        async with self.db.transaction() as conn:
            if not await ledger.sqlite_claim(conn, event):
                return False
            for change in changes:
                await _apply_change(conn, change)
            await ledger.sqlite_count(conn, event)
        return True

    async def is_applied(self, event_id: str) -> bool:
        return await ledger.sqlite_is_applied(self.db, event_id)

    async def owner_statuses(self, owner: str = "") -> list[OwnerStatus]:
        return await ledger.sqlite_owner_statuses(self.db, owner)

    async def list_files(self, owner: str, package: str = "") -> list[IndexedFile]:
        sql = f"SELECT {_FILE_COLUMNS} FROM files WHERE owner = ?"
        params: tuple = (owner,)
        if package:
            sql += " AND package = ?"
            params += (package,)
        rows = await self.db.fetchall(sql + " ORDER BY package, version, basename", params)
        return [_file_from_row(r) for r in rows]


async def _apply_change(conn: aiosqlite.Connection, change: FileChange) -> None:
    match change:
        case UpsertFile(file=f):
            await conn.execute(
                f"""
                INSERT INTO files ({_FILE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (owner, package, version, basename) DO UPDATE SET
                    type = excluded.type, subdir = excluded.subdir, labels_json = excluded.labels_json,
                    sha256 = excluded.sha256, size = excluded.size, public = excluded.public,
                    attrs_json = excluded.attrs_json, upload_time_ms = excluded.upload_time_ms,
                    yanked = excluded.yanked, yanked_reason = excluded.yanked_reason
                """,
                (
                    f.owner, f.package, f.version, f.basename, f.type, f.subdir,
                    json.dumps(list(f.labels)), f.sha256, f.size, int(f.public), f.attrs_json,
                    f.upload_time_ms, int(f.yanked), f.yanked_reason,
                ),
            )
        case RemoveFile(owner=owner, package=package, version=version, basename=basename):
            await conn.execute(
                "DELETE FROM files WHERE owner = ? AND package = ? AND version = ? AND basename = ?",
                (owner, package, version, basename),
            )
        case RemovePackage(owner=owner, package=package):
            await conn.execute("DELETE FROM files WHERE owner = ? AND package = ?", (owner, package))
        case SetPackagePrivacy(owner=owner, package=package, public=public):
            await conn.execute(
                "UPDATE files SET public = ? WHERE owner = ? AND package = ?", (int(public), owner, package)
            )
        case _:
            raise UnknownChange(f"not a file change: {change!r}")


def _file_from_row(r: aiosqlite.Row) -> IndexedFile:
    return IndexedFile(
        owner=r["owner"],
        package=r["package"],
        version=r["version"],
        basename=r["basename"],
        type=r["type"],
        subdir=r["subdir"],
        labels=tuple(json.loads(r["labels_json"])),
        sha256=r["sha256"],
        size=r["size"],
        public=bool(r["public"]),
        attrs_json=r["attrs_json"],
        upload_time_ms=r["upload_time_ms"],
        yanked=bool(r["yanked"]),
        yanked_reason=r["yanked_reason"],
    )
