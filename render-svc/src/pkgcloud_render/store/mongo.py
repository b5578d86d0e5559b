"""render-svc's store on MongoDB, idempotent without transactions.

Steps, each safe to repeat (transactions need a replica set, and mongomock has none):
1. claim the event id (insert {_id: event_id, done: false}); a duplicate key on a finished
   event means "already applied", on an unfinished one that an earlier attempt stopped
   part-way and this one finishes it;
2. count the event in the owner's status, filtered on `last_event_id != event_id` so a retry
   after a crash between 2 and 3 does not count twice;
3. mark the event done.
Effects of later features (rendered notebooks) go between 1 and 2 and must be idempotent.
"""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.errors import DuplicateKeyError

from .interfaces import AppliedEvent, OwnerStatus, RenderStore


class MongoRenderStore(RenderStore):
    def __init__(self, db: Any):
        """db: a motor (or mongomock-motor) database, e.g. open_mongo_database(settings, "render")."""
        self.db = db
        self.applied = db["applied_events"]
        self.status = db["owner_status"]

    async def open(self) -> None:
        return None  # both collections are keyed by _id; nothing else is queried yet

    async def close(self) -> None:
        # The client belongs to whoever opened the database (the target closes it).
        return None

    async def apply_event(self, event: AppliedEvent) -> bool:
        try:
            await self.applied.insert_one(
                {
                    "_id": event.event_id,
                    "owner": event.owner,
                    "event_type": event.event_type,
                    "applied_at_ms": event.applied_at_ms,
                    "done": False,
                }
            )
        except DuplicateKeyError:
            prior = await self.applied.find_one({"_id": event.event_id}, {"done": 1})
            if prior is None or prior.get("done"):
                return False
        try:
            await self.status.update_one(
                {"_id": event.owner, "last_event_id": {"$ne": event.event_id}},
                {
                    "$set": {
                        "last_event_id": event.event_id,
                        "last_event_type": event.event_type,
                        "applied_at_ms": event.applied_at_ms,
                    },
                    "$inc": {"events_applied": 1},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            pass  # this event is already the owner's last one: counted by an earlier attempt
        await self.applied.update_one({"_id": event.event_id}, {"$set": {"done": True}})
        return True

    async def is_applied(self, event_id: str) -> bool:
        return await self.applied.count_documents({"_id": event_id, "done": True}) > 0

    async def owner_statuses(self, owner: str = "") -> list[OwnerStatus]:
        query = {"_id": owner} if owner else {}
        out = []
        async for d in self.status.find(query).sort("_id", ASCENDING):
            out.append(
                OwnerStatus(
                    owner=d["_id"],
                    last_event_id=d["last_event_id"],
                    last_event_type=d["last_event_type"],
                    applied_at_ms=d["applied_at_ms"],
                    events_applied=d["events_applied"],
                )
            )
        return out
