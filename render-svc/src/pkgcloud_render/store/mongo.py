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

from pkgcloud_servicekit import event_ledger as ledger

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
        if not await ledger.mongo_claim(self.applied, event):
            return False
        await ledger.mongo_count_and_finish(self.applied, self.status, event)
        return True

    async def is_applied(self, event_id: str) -> bool:
        return await ledger.mongo_is_applied(self.applied, event_id)

    async def owner_statuses(self, owner: str = "") -> list[OwnerStatus]:
        return await ledger.mongo_owner_statuses(self.status, owner)
