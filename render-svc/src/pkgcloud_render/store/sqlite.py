"""render-svc's store on SQLite: the event and the owner's status in one transaction."""

from __future__ import annotations

from pathlib import Path

from pkgcloud_servicekit import event_ledger as ledger
from pkgcloud_servicekit.sqlite_db import SqliteDatabase

from .interfaces import AppliedEvent, OwnerStatus, RenderStore

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
    )
    """,
]


class SqliteRenderStore(RenderStore):
    def __init__(self, path: Path | str):
        self.db = SqliteDatabase(path, MIGRATIONS)

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()

    async def apply_event(self, event: AppliedEvent) -> bool:
        async with self.db.transaction() as conn:
            if not await ledger.sqlite_claim(conn, event):
                return False
            await ledger.sqlite_count(conn, event)
        return True

    async def is_applied(self, event_id: str) -> bool:
        return await ledger.sqlite_is_applied(self.db, event_id)

    async def owner_statuses(self, owner: str = "") -> list[OwnerStatus]:
        return await ledger.sqlite_owner_statuses(self.db, owner)
