"""The ledger of events a consuming service has applied: one row per event id (so a
redelivery is recognised) and a status line per owner (what the status RPCs report).

index-svc and render-svc keep it in their own databases, inside the same unit of work as
the effects of the event; these are the pieces both share, for SQLite and for MongoDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiosqlite

from .sqlite_db import SqliteDatabase


@dataclass(frozen=True)
class AppliedEvent:
    """The ledger entry of one event."""

    event_id: str
    event_type: str
    owner: str
    applied_at_ms: int


@dataclass(frozen=True)
class OwnerStatus:
    owner: str
    last_event_id: str
    last_event_type: str
    applied_at_ms: int
    events_applied: int


# --- SQLite: call inside the service's own transaction ------------------------------------

async def sqlite_claim(conn: aiosqlite.Connection, event: AppliedEvent) -> bool:
    """Record the event id; False when it was applied before (then apply nothing)."""
    cur = await conn.execute(
        "INSERT OR IGNORE INTO applied_events (event_id, owner, event_type, applied_at_ms) VALUES (?, ?, ?, ?)",
        (event.event_id, event.owner, event.event_type, event.applied_at_ms),
    )
    return cur.rowcount != 0


async def sqlite_count(conn: aiosqlite.Connection, event: AppliedEvent) -> None:
    """Make the event the owner's last applied one."""
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


async def sqlite_is_applied(db: SqliteDatabase, event_id: str) -> bool:
    return await db.fetchone("SELECT 1 FROM applied_events WHERE event_id = ?", (event_id,)) is not None


async def sqlite_owner_statuses(db: SqliteDatabase, owner: str = "") -> list[OwnerStatus]:
    sql = "SELECT owner, last_event_id, last_event_type, applied_at_ms, events_applied FROM owner_status"
    if owner:
        rows = await db.fetchall(sql + " WHERE owner = ?", (owner,))
    else:
        rows = await db.fetchall(sql + " ORDER BY owner")
    return [OwnerStatus(**dict(r)) for r in rows]


# --- MongoDB: no transactions, so claim -> effects (idempotent) -> count -> done ----------

async def mongo_claim(applied: Any, event: AppliedEvent) -> bool:
    """Insert the event id as not done; False when an earlier attempt finished it. An
    unfinished earlier attempt (a crash part-way) is taken over: its effects are idempotent."""
    from pymongo.errors import DuplicateKeyError

    try:
        await applied.insert_one(
            {"_id": event.event_id, "owner": event.owner, "event_type": event.event_type,
             "applied_at_ms": event.applied_at_ms, "done": False}
        )
    except DuplicateKeyError:
        prior = await applied.find_one({"_id": event.event_id}, {"done": 1})
        if prior is None or prior.get("done"):
            return False
    return True


async def mongo_count_and_finish(applied: Any, status: Any, event: AppliedEvent) -> None:
    from pymongo.errors import DuplicateKeyError

    try:
        await status.update_one(
            {"_id": event.owner, "last_event_id": {"$ne": event.event_id}},
            {"$set": {"last_event_id": event.event_id, "last_event_type": event.event_type,
                      "applied_at_ms": event.applied_at_ms},
             "$inc": {"events_applied": 1}},
            upsert=True,
        )
    except DuplicateKeyError:
        pass  # this event is already the owner's last one: counted by an earlier attempt
    await applied.update_one({"_id": event.event_id}, {"$set": {"done": True}})


async def mongo_is_applied(applied: Any, event_id: str) -> bool:
    return await applied.count_documents({"_id": event_id, "done": True}) > 0


async def mongo_owner_statuses(status: Any, owner: str = "") -> list[OwnerStatus]:
    from pymongo import ASCENDING

    out = []
    async for d in status.find({"_id": owner} if owner else {}).sort("_id", ASCENDING):
        out.append(OwnerStatus(owner=d["_id"], last_event_id=d["last_event_id"], last_event_type=d["last_event_type"],
                               applied_at_ms=d["applied_at_ms"], events_applied=d["events_applied"]))
    return out
