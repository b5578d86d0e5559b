"""render-svc's store on SQLite: the event and the owner's status in one transaction."""

from __future__ import annotations

from pathlib import Path

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
            cur = await conn.execute(
                "INSERT OR IGNORE INTO applied_events (event_id, owner, event_type, applied_at_ms) VALUES (?, ?, ?, ?)",
                (event.event_id, event.owner, event.event_type, event.applied_at_ms),
            )
            if cur.rowcount == 0:
                return False
            await conn.execute(
                """
                INSERT INTO owner_status (owner, last_event_id, last_event_type, applied_at_ms, events_applied)
                VALUES (?, ?, ?, ?, 1)
                ON CONFLICT (owner) DO UPDATE SET
                    last_event_id = excluded.last_event_id,
                    last_event_type = excluded.last_event_type,
                    applied_at_ms = excluded.applied_at_ms,
                    events_applied = owner_status.events_applied + 1
                """,
                (event.owner, event.event_id, event.event_type, event.applied_at_ms),
            )
        return True

    async def is_applied(self, event_id: str) -> bool:
        row = await self.db.fetchone("SELECT 1 FROM applied_events WHERE event_id = ?", (event_id,))
        return row is not None

    async def owner_statuses(self, owner: str = "") -> list[OwnerStatus]:
        sql = "SELECT owner, last_event_id, last_event_type, applied_at_ms, events_applied FROM owner_status"
        if owner:
            rows = await self.db.fetchall(sql + " WHERE owner = ?", (owner,))
        else:
            rows = await self.db.fetchall(sql + " ORDER BY owner")
        return [OwnerStatus(**dict(r)) for r in rows]
